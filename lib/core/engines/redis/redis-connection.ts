import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { timerMs } from '../../clock';
import { redactUrl, scrubUrlSecrets } from '../../config/redact';
import { InvalidArgumentError } from '../../errors';
import type { StoreOptions } from '../../options';
import { readPem } from '../tls-files';
import { DISCONNECT_TIMEOUT_MS } from './client-lifecycle';

/** The one client of a store: a plain connection, or a Redis Cluster client. */
export type RedisClient = Redis | Cluster;

/** URL used when a store names neither `url` nor `cluster_nodes`. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * RESP2 on every supported ioredis major. ioredis 6 defaults to RESP3, which opens each
 * connection with `HELLO 3` (refused by Redis < 6, failing the connection); the replies this
 * engine reads (script results, TIME, pub/sub) are the same either way. Pinning RESP2 keeps one
 * wire protocol whatever ioredis the application installs. ioredis 5 has no such option (its
 * types lack it, hence the cast) and speaks RESP2 only.
 */
const RESP2 = { protocol: 2 } as RedisOptions;

/** Seconds, from the store options' defaults (DESIGN 6: an outage fails fast). */
const DEFAULT_SOCKET_TIMEOUT = 1;
const DEFAULT_CONNECT_TIMEOUT = 5;

/**
 * Reconnection back-off: 50 ms doubling to 1 s, with jitter (half to all of it) so that a fleet
 * does not reconnect in lockstep. Capped low because decisions resume only once reconnected.
 */
export function retryDelay(times: number): number {
  const base = Math.min(1000, 50 * 2 ** Math.min(times, 5));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/**
 * Creates (without connecting) the client of a store: a `Cluster` when `clusterNodes` is set,
 * else a plain `Redis` from `url` (`redis://` or `rediss://` for TLS; password and db may be in
 * the URL; `password` and `db` override them). Commands never queue while disconnected, are
 * never replayed after a reconnect, and time out after `socketTimeout`.
 */
export function createClient(storeId: string, o: StoreOptions): RedisClient {
  if (o.driver === 'node-redis') {
    // The adapter has the operations of a plain ioredis client the engine uses (see
    // RedisDriverClient); the ioredis path stays free of any indirection.
    const { createNodeRedisClient } =
      require('./node-redis-adapter') as typeof import('./node-redis-adapter');
    return createNodeRedisClient(storeId, o) as unknown as RedisClient;
  }
  // Required here, not imported: ioredis is an optional peer, loaded only for redis stores.
  const ioredis = require('ioredis') as typeof import('ioredis');
  const common: RedisOptions = {
    lazyConnect: true,
    commandTimeout: timerMs(o.socketTimeout ?? DEFAULT_SOCKET_TIMEOUT),
    connectTimeout: timerMs(o.socketConnectTimeout ?? DEFAULT_CONNECT_TIMEOUT),
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: `rate-sync:${storeId}`,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    ...RESP2,
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
  };
  if (o.clusterNodes && o.clusterNodes.length > 0) {
    if (o.db) {
      throw new InvalidArgumentError(
        `stores.${storeId}.db`,
        `Redis Cluster has only database 0; remove db (got ${o.db}) or cluster_nodes`,
      );
    }
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: retryDelay,
      slotsRefreshTimeout: common.connectTimeout,
      redisOptions: { ...common, ...tlsOptions(storeId, o), ...credentialsFromUrl(o) },
    };
    return new ioredis.Cluster(o.clusterNodes.map(parseNode), options);
  }
  const { host: _host, port: _port, ...fromTheUrl } = fromUrl(storeId, o.url ?? DEFAULT_REDIS_URL);
  const tls = tlsOptions(storeId, o);
  const target: RedisOptions =
    o.sentinels && o.sentinels.length > 0
      ? { ...fromTheUrl, ...sentinelOptions(o, tls.tls) }
      : { ...fromTheUrl, host: _host, port: _port };
  return new ioredis.Redis({
    ...target,
    ...tls,
    ...common,
    enableOfflineQueue: false,
    retryStrategy: retryDelay,
    ...(o.db !== undefined ? { db: o.db } : {}),
  });
}

/**
 * The Sentinel options: the master of `sentinelName`, asked of the Sentinels at every
 * (re)connection; a connection that finds a replica there (a failover in progress) is dropped
 * and re-asked, and a READONLY reply (the old master, demoted) reconnects.
 */
function sentinelOptions(o: StoreOptions, tls: Record<string, Buffer> | undefined): RedisOptions {
  return {
    // With rediss://, the master and the Sentinels are both reached over TLS (without this,
    // ioredis would connect to the master in clear text whatever `tls` says).
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    sentinels: (o.sentinels ?? []).map(parseNode),
    name: o.sentinelName,
    role: 'master',
    sentinelRetryStrategy: retryDelay,
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
    ...(o.sentinelPassword !== undefined ? { sentinelPassword: o.sentinelPassword } : {}),
  } as RedisOptions;
}

/**
 * TLS options: none for `redis://` without certificate files; for `rediss://`, the CA, client
 * certificate and key read from the files the store names (checked readable at validation;
 * read again here, at startup).
 */
export function tlsOptions(storeId: string, o: StoreOptions): { tls?: Record<string, Buffer> } {
  const files = { ca: o.tlsCaFile, cert: o.tlsCertFile, key: o.tlsKeyFile };
  const given = Object.entries(files).filter(([, path]) => path !== undefined);
  if (!o.url?.toLowerCase().startsWith('rediss://') && given.length === 0) return {};
  const tls: Record<string, Buffer> = {};
  for (const [name, path] of given) tls[name] = readPem(storeId, name, path as string);
  return { tls };
}

/**
 * The connection options a `redis://[user[:password]@]host[:port][/db]` URL names (`rediss://`
 * adds TLS). Parsed here rather than by ioredis because ioredis lets the URL win over explicit
 * options, and `password` / `db` must override the URL.
 */
export function fromUrl(storeId: string, url: string): RedisOptions {
  let u: URL;
  let credentials: { username?: string; password?: string };
  try {
    u = new URL(url);
    credentials = {
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    };
  } catch {
    // The TypeError of URL carries the input, credentials included: never rethrow it, and do
    // not echo a URL that does not parse (its password may be anywhere in it).
    throw new InvalidArgumentError(
      `stores.${storeId}.url`,
      'not a valid URL (not shown: it may hold a password); percent-encode reserved characters ' +
        'in the user name and password',
    );
  }
  const db = Number(u.pathname.replace(/^\//, '') || u.searchParams.get('db') || 0);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...credentials,
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Where a store points, safe to print: the URL without credentials, or the cluster seeds. */
export function describeTarget(o: StoreOptions): string {
  if (o.client) return 'the client given in code';
  if (o.sentinels && o.sentinels.length > 0) {
    return `master "${o.sentinelName}" of sentinels ${o.sentinels.join(',')}`;
  }
  if (o.clusterNodes && o.clusterNodes.length > 0) return `cluster ${o.clusterNodes.join(',')}`;
  return redactUrl(o.url ?? DEFAULT_REDIS_URL);
}

/** Driver messages (ioredis', node-redis' as its adapter words them) in the store's terms. */
const EXPLAINED: readonly [RegExp, (o: StoreOptions) => string][] = [
  [
    /^Stream isn't writeable \(not sent within socket_timeout\)/,
    (o) =>
      `not sent within socket_timeout (${o.socketTimeout ?? DEFAULT_SOCKET_TIMEOUT} s): the ` +
      'connection was busy; nothing was sent',
  ],
  [/^Stream isn't writeable/, () => 'not connected to Redis (reconnecting); nothing was sent'],
  [
    /^Reached the max retries per request/,
    () => 'the connection was lost with the command in flight (it may or may not have run)',
  ],
  [
    /^Socket closed unexpectedly/,
    () => 'the connection was lost with the command in flight (it may or may not have run)',
  ],
  [
    /^Command timed out/,
    (o) => `no reply within socket_timeout (${o.socketTimeout ?? DEFAULT_SOCKET_TIMEOUT} s)`,
  ],
];

/**
 * True when the client refused the command without sending it (not connected, no offline
 * queue): it cannot have run, now or later.
 */
export function neverSent(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith("Stream isn't writeable");
}

/** Rewrites the driver's option-speak (see {@link EXPLAINED}); other messages pass unchanged. */
export function explain(message: string, o: StoreOptions): string {
  const hit = EXPLAINED.find(([re]) => re.test(message));
  return hit ? hit[1](o) : message;
}

/**
 * Returns `message` with every secret of the store (the password, the URL's credentials)
 * replaced by `***`. Driver messages do not normally carry them; this makes sure.
 */
export function scrubSecrets(o: StoreOptions, message: string): string {
  let out = scrubUrlSecrets(message, o.url);
  for (const secret of [o.password, o.sentinelPassword]) {
    if (secret && secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}

/** A cluster has no URL to connect to, but its credentials may still be written in `url`. */
function credentialsFromUrl(o: StoreOptions): { password?: string; username?: string } {
  if (!o.url) return {};
  try {
    const u = new URL(o.url);
    return {
      ...(u.password && o.password === undefined
        ? { password: decodeURIComponent(u.password) }
        : {}),
      ...(u.username && o.username === undefined
        ? { username: decodeURIComponent(u.username) }
        : {}),
    };
  } catch {
    return {}; // not a parseable URL: then ioredis cannot use it either, and it names no secret
  }
}

/** `host:port` or `redis://host:port` to ioredis' node form. */
export function parseNode(node: string): { host: string; port: number } {
  const bare = node.replace(/^rediss?:\/\//i, '').replace(/\/.*$/, '');
  const at = bare.lastIndexOf(':');
  const host = at > 0 ? bare.slice(0, at) : bare;
  const port = at > 0 ? Number(bare.slice(at + 1)) : 6379;
  return { host: host.replace(/^\[|\]$/g, ''), port };
}
