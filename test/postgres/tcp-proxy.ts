import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the test PostgreSQL, to simulate outages without touching the shared
 * server: `down()` drops every connection and refuses new ones, `blackhole()` accepts and
 * keeps connections but forwards nothing (a silent network), `holdReplies()` forwards what the
 * clients send but none of the server's replies (a reply path gone silent), `up()` restores
 * service for new connections.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private mode: 'up' | 'blackhole' | 'hold-replies' = 'up';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts listening (on a free port the first time, then on the same port). */
  async up(): Promise<void> {
    this.mode = 'up';
    if (this.server) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Refuses new connections and resets the open ones. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Keeps every connection open but forwards nothing, either way. */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
    }
    for (const s of this.sockets) s.pause();
  }

  /** Forwards to the server, holds every reply (on open connections and on new ones). */
  holdReplies(): void {
    this.mode = 'hold-replies';
    for (const [client, upstream] of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    await this.down();
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === 'blackhole') {
      client.pause();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    this.track(upstream);
    client.pipe(upstream);
    if (this.mode === 'hold-replies') upstream.pause();
    else upstream.pipe(client);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }
}
