/**
 * The configuration model, after TOML parsing and env interpolation. TOML uses snake_case
 * (`rate_per_second`), TypeScript the same names in camelCase (`ratePerSecond`); units are the
 * same in both: seconds.
 */
import type { ConfigSource } from './config/config-source';

/** The storage engines. */
export type EngineName = 'memory' | 'redis' | 'postgres';

/** The rate algorithms. Concurrency (`max_concurrent`) combines with either. */
export type AlgorithmName = 'token_bucket' | 'sliding_window';

/**
 * What a limiter does while its store cannot decide: `open` admits without counting, `closed`
 * rejects (503 / `StoreUnavailableError`), `local` keeps limiting in this process at the limit
 * divided by the fleet size (docs/configuration.md, "Store failure").
 */
export type StoreFailurePolicy = 'open' | 'closed' | 'local';

/** One store: one connection (client or pool) shared by every limiter that names it. */
export interface StoreOptions {
  /** Which engine backs the store. */
  engine: EngineName;

  // --- memory ---
  /** memory: cap on tracked keys; the oldest are evicted past it. @default 1_000_000 */
  maxKeys?: number;

  // --- redis and postgres ---
  /** Connection URL (`redis://`, `rediss://`, `postgres://`). May carry credentials; never logged. */
  url?: string;
  /** Connection pool lower bound (postgres); accepted and documented for redis. */
  poolMinSize?: number;
  /** Connection pool upper bound (postgres); accepted and documented for redis. */
  poolMaxSize?: number;
  /** Per-command timeout in seconds: a slower store call counts as a store failure. @default 1 */
  socketTimeout?: number;
  /** Connect timeout in seconds. @default 5 */
  socketConnectTimeout?: number;
  /**
   * Code only: a client the application already has, used instead of opening one. redis: an
   * ioredis `Redis` or `Cluster`, or a node-redis (`redis` package) client; postgres: a `pg` `Pool`. The store never closes it (the
   * application does, after the module has shut down), keeps its own subscriber connection for
   * wake-ups (a duplicate of it), and checks its scripts or schema at startup. The connection
   * options (`url`, `password`, TLS, ...) are then the client's own: giving both is an error.
   */
  client?: object;
  /**
   * PEM file of the certificate authority that signed the server's certificate (TLS). A path,
   * read at startup; relative to the working directory.
   */
  tlsCaFile?: string;
  /** PEM file of the client certificate, for servers that authenticate clients by certificate. */
  tlsCertFile?: string;
  /** PEM file of the client certificate's private key (with `tlsCertFile`). Never logged. */
  tlsKeyFile?: string;

  // --- redis ---
  /**
   * redis: the client library the store opens its connection with: `ioredis` or `node-redis`
   * (the `redis` package; one server or a cluster, no `sentinels`). A `client` given
   * in code is used with its own library. @default "ioredis"
   */
  driver?: 'ioredis' | 'node-redis';
  /** redis: database index. */
  db?: number;
  /** redis: password (overrides one in the URL). Never logged. */
  password?: string;
  /** redis: ACL user name (overrides one in the URL); without it, the `default` user. */
  username?: string;
  /** redis: prefix of every key. @default "rate_limit" */
  keyPrefix?: string;
  /** redis: `host:port` seeds of a Redis Cluster; when given, `url` is not used for the hosts. */
  clusterNodes?: string[];
  /**
   * redis: `host:port` of Redis Sentinels; the store asks them for the master of
   * `sentinelName` and follows its failovers. `url` then only gives the password, db and TLS.
   */
  sentinels?: string[];
  /** redis: the master's name as the Sentinels know it (with `sentinels`). */
  sentinelName?: string;
  /** redis: password of the Sentinels themselves (when they require one). Never logged. */
  sentinelPassword?: string;

  // --- postgres ---
  /** postgres: state table name (validated identifier, always quoted). @default "rate_limiter_state" */
  tableName?: string;
  /** postgres: schema name (validated identifier, always quoted). @default "public" */
  schemaName?: string;
  /** postgres: create the schema objects at startup. @default true */
  autoCreate?: boolean;
  /** postgres: create UNLOGGED tables (faster; state lost on a server crash). @default false */
  unlogged?: boolean;
  /**
   * postgres: TLS as libpq's `sslmode`: `disable`, `require` (encrypted, server not verified),
   * `verify-ca` (certificate checked against `tlsCaFile` or the system CAs) or `verify-full`
   * (and its host name). Unset: what the URL's `sslmode` says, else no TLS.
   */
  sslMode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  /** postgres: `synchronous_commit` for decisions (`off` trades a crash's last writes for speed). @default "off" */
  synchronousCommit?: 'on' | 'off' | 'local' | 'remote_write' | 'remote_apply';
  /** postgres: seconds between expired-row cleanups. @default 60 */
  cleanupInterval?: number;

  // --- degraded mode (limiters with `onStoreFailure: 'local'`) ---
  /**
   * redis, postgres: the number of processes sharing this store, used to divide limits while
   * the store is down. Unset: counted from the processes' heartbeats in the store.
   */
  fleetSize?: number;
  /** redis, postgres: seconds between a process's heartbeats in the store. @default 5 */
  heartbeatInterval?: number;

  // --- failure handling (all engines) ---
  /** Seconds the circuit breaker stays open after a store failure before probing again. @default 1 */
  breakerCooldown?: number;
}

/** One limiter: a named policy bound to a store. */
export interface LimiterOptions {
  /** The store id this limiter uses. */
  store: string;
  /** @default "token_bucket" */
  algorithm?: AlgorithmName;
  /** token_bucket: admissions per second. */
  ratePerSecond?: number;
  /** token_bucket: admissions allowed back to back after idle time. @default 1 */
  burst?: number;
  /** Concurrent holders allowed (leases). Combines with either algorithm. */
  maxConcurrent?: number;
  /** Seconds a concurrency lease lives unless renewed; a crashed holder's slot frees after it. @default 60 */
  leaseSeconds?: number;
  /**
   * Seconds a concurrency permit may be held before its slot is taken back (a permit that was
   * forgotten, a handler that hangs): it is then no longer renewed, released, and a warning
   * names the limiter. Unset: no bound.
   */
  maxHoldSeconds?: number;
  /** sliding_window: admissions per window. */
  limit?: number;
  /** sliding_window: window length in seconds. */
  windowSeconds?: number;
  /**
   * Seconds a key stays rejected once a call was rejected for its rate (a ban, like
   * `blockDuration` of `@nestjs/throttler`): every call of that key is rejected until then, with
   * `retryAfterMs` telling when, and nothing is consumed meanwhile. Needs `ratePerSecond` or a
   * sliding window. Unset: a key is admitted again as soon as its rate allows.
   */
  blockSeconds?: number;
  /** Default seconds an acquisition may wait. Unset: service calls wait as long as it takes, HTTP requests do not wait. */
  timeout?: number;
  /**
   * Reject (503 / StoreUnavailableError) instead of admitting when the store fails. The Python
   * library's spelling of `onStoreFailure: 'closed'`; given with `onStoreFailure`, both must agree.
   * @default false
   */
  failClosed?: boolean;
  /**
   * What a store failure does: `open` admits, `closed` rejects, `local` limits in this process
   * at the limit divided by the fleet size. @default "open" (or "closed" with `failClosed`)
   */
  onStoreFailure?: StoreFailurePolicy;
  /**
   * `false`: shadow mode. Every decision is taken and counted as if enforced (state consumed
   * the same way), but the request or call always proceeds; rejections that would have happened
   * are counted (`shadow_rejected`) and logged, and no rate-limit header is sent.
   * @default true
   */
  enforce?: boolean;
}

/** A complete, validated configuration. */
export interface RateSyncConfig {
  /** Stores by id. */
  stores: Record<string, StoreOptions>;
  /** Limiters by id. */
  limiters: Record<string, LimiterOptions>;
  /** Where it came from (set by `loadConfig`), for messages: the file, or where none was found. */
  source?: ConfigSource;
}

/** A limiter's store failure policy: `onStoreFailure`, else from `failClosed`. */
export function storeFailurePolicy(
  o: Pick<LimiterOptions, 'failClosed' | 'onStoreFailure'>,
): StoreFailurePolicy {
  return o.onStoreFailure ?? (o.failClosed ? 'closed' : 'open');
}
