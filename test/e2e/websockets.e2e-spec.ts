import { UseFilters, UseInterceptors, type INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { LimiterService, RateLimit, RateLimitInterceptor, RateSyncModule } from '../../lib/nest';
import { createApp, eventually, type TestApp } from './support/create-app';
import { Gate } from './support/gate';
import { WsExceptionMessageFilter } from './support/ws-exception.filter';

// Nest 11 applies no global interceptor or filter to gateways: both are bound here.
@WebSocketGateway()
@UseInterceptors(RateLimitInterceptor)
@UseFilters(WsExceptionMessageFilter)
class ChatGateway implements OnGatewayConnection {
  constructor(private readonly gate: Gate) {}

  @RateLimit('connections', { key: '{headers.x-client}' })
  handleConnection(): void {}

  @SubscribeMessage('say')
  @RateLimit('per_client') // default key: the client's address, from the handshake
  say(@MessageBody() text: string): { event: string; data: string } {
    return { event: 'said', data: text };
  }

  @SubscribeMessage('fail')
  @RateLimit('slot', { key: false })
  fail(): Promise<never> {
    return Promise.reject(new Error('handler failed'));
  }

  // Reached by two interceptors (as a gateway is on Nest 12 with nonHttp): counted once.
  @SubscribeMessage('twice')
  @UseInterceptors(RateLimitInterceptor)
  @RateLimit('pair', { key: false })
  twice(): { event: string; data: string } {
    return { event: 'done-twice', data: 'ok' };
  }

  @SubscribeMessage('work')
  @RateLimit('slot', { key: false })
  async work(): Promise<{ event: string; data: string }> {
    await this.gate.pass();
    return { event: 'worked', data: 'done' };
  }
}

/** One connected client, whatever the adapter. */
interface Client {
  send(event: string, data?: unknown): void;
  /** The data of the next `event` received. */
  next(event: string): Promise<unknown>;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  /** Drops the TCP connection without a closing handshake. */
  abort(): void;
  close(): void;
}

function socketIoClient(url: string, headers: Record<string, string>): Client {
  const socket = io(url, { transports: ['websocket'], extraHeaders: headers, reconnection: false });
  return {
    send: (event, data) => void socket.emit(event, data),
    next: (event) => new Promise((resolve) => socket.once(event, resolve)),
    closed: new Promise((resolve) => socket.once('disconnect', () => resolve())),
    abort: () => (socket.io.engine.transport as unknown as { ws: WebSocket }).ws.terminate(),
    close: () => void socket.close(),
  };
}

function wsClient(url: string, headers: Record<string, string>): Client {
  const socket = new WebSocket(url.replace('http', 'ws'), { headers });
  const opened = new Promise((resolve) => socket.once('open', resolve));
  return {
    send: (event, data) => void opened.then(() => socket.send(JSON.stringify({ event, data }))),
    next: (event) =>
      new Promise((resolve) => {
        const onMessage = (raw: WebSocket.RawData): void => {
          const message = JSON.parse(String(raw)) as { event: string; data: unknown };
          if (message.event !== event) return;
          socket.off('message', onMessage);
          resolve(message.data);
        };
        socket.on('message', onMessage);
      }),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    abort: () => socket.terminate(),
    close: () => {
      if (socket.readyState === WebSocket.CONNECTING) socket.once('open', () => socket.close());
      else socket.close();
    },
  };
}

const ADAPTERS = {
  'socket.io': { create: (app: INestApplication) => new IoAdapter(app), client: socketIoClient },
  ws: { create: (app: INestApplication) => new WsAdapter(app), client: wsClient },
};

describe.each(['socket.io', 'ws'] as const)('WebSockets on the %s adapter', (name) => {
  let t: TestApp;
  const clients: Client[] = [];
  const connect = (client: string, forwardedFor = '203.0.113.1'): Client => {
    const c = ADAPTERS[name].client(t.url, { 'x-client': client, 'x-forwarded-for': forwardedFor });
    clients.push(c);
    return c;
  };
  const limiters = (): LimiterService => t.app.get(LimiterService);

  beforeEach(async () => {
    t = await createApp(
      'express',
      {
        imports: [
          RateSyncModule.forRoot({
            configFile: false,
            stores: { mem: { engine: 'memory' } },
            limiters: {
              connections: { store: 'mem', maxConcurrent: 1 },
              per_client: {
                store: 'mem',
                algorithm: 'sliding_window',
                limit: 1,
                windowSeconds: 60,
              },
              slot: { store: 'mem', maxConcurrent: 1 },
              pair: { store: 'mem', algorithm: 'sliding_window', limit: 2, windowSeconds: 60 },
            },
            trustedProxies: ['127.0.0.1'],
          }),
        ],
        providers: [ChatGateway, Gate],
      },
      (app) => app.useWebSocketAdapter(ADAPTERS[name].create(app)),
    );
  });
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await t.close();
  });

  it('admits a message, then rejects with a WsException payload; keyed by the forwarded address', async () => {
    const ann = connect('ann', '203.0.113.1');
    const said = ann.next('said');
    ann.send('say', 'hello');
    await expect(said).resolves.toBe('hello');
    const rejected = ann.next('exception');
    ann.send('say', 'again');
    expect(await rejected).toMatchObject({
      status: 'error',
      code: 'RATE_LIMITED',
      limiter: 'per_client',
      retryAfter: 60,
    });
    const bob = connect('bob', '203.0.113.2'); // another client address: its own bucket
    const bobSaid = bob.next('said');
    bob.send('say', 'hi');
    await expect(bobSaid).resolves.toBe('hi');
    expect((await limiters().state('per_client', '203.0.113.1')).remaining).toBe(0);
  });

  it('counts a message once when two RateLimitInterceptors reach its handler', async () => {
    const ann = connect('ann');
    for (let i = 0; i < 2; i++) {
      const answer = Promise.race([ann.next('done-twice'), ann.next('exception')]);
      ann.send('twice');
      await expect(answer).resolves.toBe('ok');
    }
    expect(limiters().metrics('pair')).toMatchObject({ allowed: 2, rejected: 0 });
  });

  it('releases the slot when the handler fails', async () => {
    const ann = connect('ann');
    for (let i = 1; i <= 2; i++) {
      ann.send('fail');
      await eventually(() => limiters().metrics('slot').released === i);
    }
    expect(limiters().metrics('slot')).toMatchObject({ allowed: 2, rejected: 0, released: 2 });
  });

  it("holds a message's slot while its handler runs, even after the client disconnected", async () => {
    const gate = t.app.get(Gate);
    const ann = connect('ann');
    await eventually(async () => (await limiters().state('connections', 'ann')).inFlight === 1);
    ann.send('work');
    await gate.whenEntered(1);
    ann.abort();
    // The server saw the disconnect once the connection slot is back.
    await eventually(async () => (await limiters().state('connections', 'ann')).inFlight === 0);
    expect((await limiters().state('slot')).inFlight).toBe(1);
    const bob = connect('bob', '203.0.113.2');
    const refused = bob.next('exception');
    bob.send('work');
    expect(await refused).toMatchObject({ code: 'RATE_LIMITED', limiter: 'slot' });
    gate.open();
    await eventually(async () => (await limiters().state('slot')).inFlight === 0);
    const worked = bob.next('worked');
    bob.send('work');
    await expect(worked).resolves.toBe('done');
  });

  it('holds a connection slot per client for the life of the socket, released on an abrupt disconnect', async () => {
    const first = connect('ann');
    await eventually(async () => (await limiters().state('connections', 'ann')).inFlight === 1);
    const second = connect('ann');
    const refused = second.next('exception');
    expect(await refused).toMatchObject({ code: 'RATE_LIMITED', limiter: 'connections' });
    await second.closed;
    first.abort();
    await eventually(async () => (await limiters().state('connections', 'ann')).inFlight === 0);
    const third = connect('ann');
    await eventually(async () => (await limiters().state('connections', 'ann')).inFlight === 1);
    third.close();
    await eventually(async () => (await limiters().state('connections', 'ann')).inFlight === 0);
  });
});
