import { EventEmitter } from 'node:events';
import type { RedisClientType } from 'redis';
import { timerMs } from '../../clock';
import { InvalidArgumentError } from '../../errors';
import type { StoreOptions } from '../../options';
import { DEFAULT_REDIS_URL, fromUrl, retryDelay, tlsOptions } from './redis-connection';

/**
 * The operations the Redis engine uses on its client, with ioredis' signatures: the seam
 * between the engine and a driver. An ioredis `Redis` has them natively (its path has no
 * adapter, no extra allocation or promise hop); {@link NodeRedisAdapter} gives them to a
 * node-redis (`redis` package) client.
 */
export interface RedisDriverClient {
  /** ioredis' connection states: wait, connecting, ready, reconnecting, end. */
  readonly status: string;
  readonly options: { commandTimeout?: number; keyPrefix?: string };
  readonly isCluster: false;
  /** 'error', 'ready', 'end', and 'message' (a subscriber's, with the channel). */
  on(event: string, listener: Parameters<EventEmitter['on']>[1]): this;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(lua: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  script(sub: 'LOAD', lua: string): Promise<unknown>;
  ping(): Promise<unknown>;
  role(): Promise<unknown>;
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]]>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  duplicate(o: { connectionName: string }): RedisDriverClient;
}

/** A node-redis client, as far as the adapter uses it. */
type NodeClient = RedisClientType;

/**
 * True when `client` comes from node-redis (the `redis` package) rather than ioredis: it has
 * `sendCommand` and the `isReady` flag, ioredis has a `status` string instead.
 */
export function isNodeRedisClient(client: object): boolean {
  const c = client as Record<string, unknown>;
  return typeof c.sendCommand === 'function' && 'isReady' in c && typeof c.status !== 'string';
}

/** True for a node-redis cluster client (which the store does not support). */
export function isNodeRedisCluster(client: object): boolean {
  return isNodeRedisClient(client) && 'masters' in client;
}

/** node-redis messages for a command refused without being sent. */
const NEVER_SENT = new Set(['The client is offline', 'The client is closed']);

/**
 * A node-redis client behind ioredis' interface (see {@link RedisDriverClient}). Its states,
 * errors and replies are mapped to ioredis' where the engine reads them: a command refused
 * while disconnected fails with ioredis' "Stream isn't writeable" (the engine knows it was
 * never sent), and RESP2 replies are the same values.
 */
export class NodeRedisAdapter extends EventEmitter implements RedisDriverClient {
  readonly isCluster = false as const;
  /** connect() was called (or the client was given open): not "wait" any more. */
  private started: boolean;
  private ended = false;
  private everReady: boolean;
  private readonly onMessage = (_message: string, channel: string): void =>
    void this.emit('message', channel);

  constructor(
    readonly raw: NodeClient,
    private readonly commandTimeoutMs?: number,
  ) {
    super();
    this.started = raw.isOpen;
    this.everReady = raw.isReady;
    // Always listened to: node-redis throws an 'error' nobody listens to (ioredis logs it).
    raw.on('error', this.onError);
    raw.on('ready', this.onReady);
    raw.on('end', this.onEnd);
    raw.on('terminated', this.onTerminated);
  }

  /** Removes the adapter's listeners from the client (one the application gave, at close). */
  detach(): void {
    this.raw.off('error', this.onError);
    this.raw.off('ready', this.onReady);
    this.raw.off('end', this.onEnd);
    this.raw.off('terminated', this.onTerminated);
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

  get options(): { commandTimeout?: number; keyPrefix?: string } {
    const o = this.raw.options as { keyPrefix?: unknown } | undefined;
    return {
      commandTimeout: this.commandTimeoutMs,
      keyPrefix: typeof o?.keyPrefix === 'string' ? o.keyPrefix : undefined,
    };
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

  quit(): Promise<unknown> {
    return this.raw.close();
  }

  disconnect(): void {
    this.ended = true;
    this.raw.destroy();
  }

  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown> {
    return this.send(['EVALSHA', sha, String(numKeys), ...keysAndArgs]);
  }

  eval(lua: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown> {
    return this.send(['EVAL', lua, String(numKeys), ...keysAndArgs]);
  }

  script(sub: 'LOAD', lua: string): Promise<unknown> {
    return this.send(['SCRIPT', sub, lua]);
  }

  ping(): Promise<unknown> {
    return this.send(['PING']);
  }

  role(): Promise<unknown> {
    return this.send(['ROLE']);
  }

  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]]> {
    return this.send(['SCAN', cursor, match, pattern, count, String(n)]) as Promise<
      [string, string[]]
    >;
  }

  subscribe(...channels: string[]): Promise<unknown> {
    return this.raw.subscribe(channels, this.onMessage).catch(neverSentAs);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.raw.unsubscribe(channel, this.onMessage).catch(neverSentAs);
  }

  /** A second connection of the same options (a subscriber), connecting at once. */
  duplicate(o: { connectionName: string }): NodeRedisAdapter {
    const copy = new NodeRedisAdapter(
      this.raw.duplicate({ name: o.connectionName }) as NodeClient,
      this.commandTimeoutMs,
    );
    // Its errors reach the caller's 'error' listener; the first attempt's rejection is one.
    copy.connect().catch(() => undefined);
    return copy;
  }

  private send(args: string[]): Promise<unknown> {
    return this.raw.sendCommand(args).catch(neverSentAs);
  }
}

/**
 * A command node-redis refused without sending it, as ioredis says it (see `neverSent`):
 * offline or closed, or still queued when its timeout fired (node-redis' `TimeoutError`, which
 * has no message).
 */
function neverSentAs(err: unknown): never {
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
 * A node-redis client of a store (`driver = "node-redis"`), not connected, with the same
 * behaviour as the ioredis one: RESP2, no offline queue, every command bounded by
 * `socketTimeout` (a reply that comes later is dropped), the same reconnection back-off, and
 * `password` / `db` overriding the URL's. Plain connections only: cluster and Sentinel stores
 * are refused at validation.
 */
export function createNodeRedisClient(storeId: string, o: StoreOptions): NodeRedisAdapter {
  if ((o.clusterNodes?.length ?? 0) > 0 || (o.sentinels?.length ?? 0) > 0) {
    throw new InvalidArgumentError(
      `stores.${storeId}.driver`,
      '"node-redis" connects to one server only; remove cluster_nodes / sentinels, or use ' +
        'driver "ioredis" (the default)',
    );
  }
  // Required here, not imported: redis is an optional peer, loaded only for these stores.
  const { createClient } = require('redis') as typeof import('redis');
  const u = fromUrl(storeId, o.url ?? DEFAULT_REDIS_URL);
  const tls = tlsOptions(storeId, o).tls ?? (u.tls ? {} : undefined);
  const timeoutMs = timerMs(o.socketTimeout ?? 1);
  const username = o.username ?? u.username;
  const password = o.password ?? u.password;
  const db = o.db ?? u.db;
  const raw = createClient({
    RESP: 2,
    name: `rate-sync:${storeId}`,
    disableOfflineQueue: true,
    disableClientInfo: true,
    commandOptions: { timeout: timeoutMs, rejectInFlight: true },
    socket: {
      host: u.host,
      port: u.port,
      connectTimeout: timerMs(o.socketConnectTimeout ?? 5),
      reconnectStrategy: (retries: number) => retryDelay(retries),
      ...(tls ? { tls: true as const, ...tls } : {}),
    },
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(db !== undefined ? { database: db } : {}),
  });
  return new NodeRedisAdapter(raw as unknown as NodeClient, timeoutMs);
}
