import { EventEmitter } from 'node:events';

/** What the adapters use of a node-redis client or cluster: its flags, events and lifecycle. */
interface NodeConnection {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis types them so
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  unsubscribe(channel: string, listener: (...args: any[]) => void): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
}

/** The node-redis events that mean "ready" and "ended" (a cluster names them differently). */
interface LifecycleEvents {
  readonly ready: string;
  readonly end: string;
  /** Ended for good (no reconnection), without 'end'. */
  readonly terminated?: string;
}

/** node-redis messages for a command refused without being sent. */
const NEVER_SENT = new Set(['The client is offline', 'The client is closed']);

/**
 * A command node-redis refused without sending it, as ioredis says it (see `neverSent`):
 * offline or closed, or still queued when its timeout fired (node-redis' `TimeoutError`, which
 * has no message).
 */
export function neverSentAs(err: unknown): never {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && NEVER_SENT.has(message)) {
    throw new Error(`Stream isn't writeable (${message.replace(/^The /, 'the ')})`);
  }
  if ((err as { constructor?: { name?: string } } | null)?.constructor?.name === 'TimeoutError') {
    throw new Error("Stream isn't writeable (not sent within socket_timeout)");
  }
  throw err;
}

/**
 * What both node-redis adapters share: ioredis' connection states and events from node-redis'
 * flags and events, connect() rejecting with the first connection error, quit and disconnect.
 */
export abstract class NodeRedisConnection<Raw extends NodeConnection> extends EventEmitter {
  /** connect() was called (or the client was given open): not "wait" any more. */
  private started: boolean;
  private ended = false;
  private everReady: boolean;

  constructor(
    readonly raw: Raw,
    protected readonly commandTimeoutMs: number | undefined,
    private readonly events: LifecycleEvents,
  ) {
    super();
    this.started = raw.isOpen;
    this.everReady = raw.isReady;
    // Always listened to: node-redis throws an 'error' nobody listens to (ioredis logs it).
    raw.on('error', this.onError);
    raw.on(events.ready, this.onReady);
    raw.on(events.end, this.onEnd);
    if (events.terminated) raw.on(events.terminated, this.onTerminated);
  }

  /** Removes the adapter's listeners from the client (one the application gave, at close). */
  detach(): void {
    this.raw.off('error', this.onError);
    this.raw.off(this.events.ready, this.onReady);
    this.raw.off(this.events.end, this.onEnd);
    if (this.events.terminated) this.raw.off(this.events.terminated, this.onTerminated);
  }

  private readonly onError = (err: Error): void => {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  };
  private readonly onReady = (): void => {
    this.everReady = true;
    this.emit('ready');
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.emit('end');
  };
  private readonly onTerminated = (): void => void (this.ended = true);

  get status(): string {
    if (this.raw.isReady) return 'ready';
    if (this.raw.isOpen) return this.everReady ? 'reconnecting' : 'connecting';
    return this.ended ? 'end' : this.started ? 'connecting' : 'wait';
  }

  /**
   * Resolves when ready; rejects with the first connection error, like ioredis' connect()
   * (node-redis keeps retrying by its reconnect strategy meanwhile, as ioredis does).
   */
  connect(): Promise<void> {
    this.started = true;
    this.ended = false;
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.raw.off('error', onError);
        reject(err);
      };
      this.raw.on('error', onError);
      this.raw.connect().then(
        () => {
          this.raw.off('error', onError);
          resolve();
        },
        (err: Error) => {
          this.raw.off('error', onError);
          reject(err);
        },
      );
    });
  }

  /** A subscriber's listener: 'message' with the channel, as ioredis emits it. */
  protected readonly onMessage = (_message: unknown, channel: string | Buffer): void =>
    void this.emit('message', String(channel));

  unsubscribe(channel: string): Promise<unknown> {
    return this.raw.unsubscribe(channel, this.onMessage).catch(neverSentAs);
  }

  quit(): Promise<unknown> {
    return this.raw.close();
  }

  disconnect(): void {
    this.ended = true;
    this.raw.destroy();
  }
}
