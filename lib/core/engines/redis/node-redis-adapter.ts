import type { EventEmitter } from 'node:events';
import type { RedisClientType, RedisClusterType } from 'redis';
import { timerMs } from '../../clock';
import { InvalidArgumentError } from '../../errors';
import type { StoreOptions } from '../../options';
import { NodeRedisConnection, neverSentAs } from './node-redis-connection';
import { NodeRedisClusterAdapter } from './node-redis-cluster';
import { DEFAULT_REDIS_URL, fromUrl, parseNode, retryDelay, tlsOptions } from './redis-connection';

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

/** True for a node-redis cluster client (`createCluster`). */
export function isNodeRedisCluster(client: object): boolean {
  return isNodeRedisClient(client) && 'masters' in client;
}

/**
 * A node-redis client behind ioredis' interface (see {@link RedisDriverClient}). Its states,
 * errors and replies are mapped to ioredis' where the engine reads them: a command refused
 * while disconnected fails with ioredis' "Stream isn't writeable" (the engine knows it was
 * never sent), and RESP2 replies are the same values.
 */
export class NodeRedisAdapter extends NodeRedisConnection<NodeClient> implements RedisDriverClient {
  readonly isCluster = false as const;

  constructor(raw: NodeClient, commandTimeoutMs?: number) {
    super(raw, commandTimeoutMs, { ready: 'ready', end: 'end', terminated: 'terminated' });
  }

  get options(): { commandTimeout?: number; keyPrefix?: string } {
    const o = this.raw.options as { keyPrefix?: unknown } | undefined;
    return {
      commandTimeout: this.commandTimeoutMs,
      keyPrefix: typeof o?.keyPrefix === 'string' ? o.keyPrefix : undefined,
    };
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
 * A node-redis client of a store (`driver = "node-redis"`), not connected, with the same
 * behaviour as the ioredis one: RESP2, no offline queue, every command bounded by
 * `socketTimeout` (a reply that comes later is dropped), the same reconnection back-off, and
 * `password` / `db` overriding the URL's. With `clusterNodes`, a cluster client (`createCluster`)
 * whose node connections have those options. Sentinel stores are refused at validation.
 */
export function createNodeRedisClient(
  storeId: string,
  o: StoreOptions,
): NodeRedisAdapter | NodeRedisClusterAdapter {
  if ((o.sentinels?.length ?? 0) > 0) {
    throw new InvalidArgumentError(
      `stores.${storeId}.driver`,
      '"node-redis" does not connect through Sentinels here; remove sentinels, or use driver ' +
        '"ioredis" (the default)',
    );
  }
  // Required here, not imported: redis is an optional peer, loaded only for these stores.
  const redis = require('redis') as typeof import('redis');
  const cluster = (o.clusterNodes?.length ?? 0) > 0;
  const u = fromUrl(storeId, o.url ?? DEFAULT_REDIS_URL);
  const tls = tlsOptions(storeId, o).tls ?? (u.tls ? {} : undefined);
  const timeoutMs = timerMs(o.socketTimeout ?? 1);
  const username = o.username ?? u.username;
  const password = o.password ?? u.password;
  const db = o.db ?? u.db;
  const socket = {
    connectTimeout: timerMs(o.socketConnectTimeout ?? 5),
    reconnectStrategy: (retries: number) => retryDelay(retries),
    ...(tls ? { tls: true as const, ...tls } : {}),
  };
  const common = {
    RESP: 2 as const,
    name: `rate-sync:${storeId}`,
    disableOfflineQueue: true,
    disableClientInfo: true,
    commandOptions: { timeout: timeoutMs, rejectInFlight: true },
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
  if (cluster) {
    if (db) {
      throw new InvalidArgumentError(
        `stores.${storeId}.db`,
        `Redis Cluster has only database 0; remove db (got ${db}) or cluster_nodes`,
      );
    }
    const raw = redis.createCluster({
      rootNodes: (o.clusterNodes ?? []).map((node) => ({
        socket: { ...socket, ...parseNode(node) },
      })),
      defaults: { ...common, socket },
      RESP: 2,
      commandOptions: common.commandOptions,
    });
    return new NodeRedisClusterAdapter(raw as unknown as RedisClusterType, timeoutMs);
  }
  const raw = redis.createClient({
    ...common,
    socket: { host: u.host, port: u.port, ...socket },
    ...(db !== undefined ? { database: db } : {}),
  });
  return new NodeRedisAdapter(raw as unknown as NodeClient, timeoutMs);
}
