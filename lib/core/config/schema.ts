import { MAX_IDENTIFIER_LENGTH, MAX_TABLE_NAME_LENGTH } from '../engines/postgres/identifiers';
import type { AlgorithmName, EngineName, StoreFailurePolicy } from '../options';

/** The engines, in the order error messages list them. */
export const ENGINES: readonly EngineName[] = ['memory', 'redis', 'postgres'];

/** The algorithms, in the order error messages list them. */
export const ALGORITHMS: readonly AlgorithmName[] = ['token_bucket', 'sliding_window'];

/** Values of a limiter's `on_store_failure`. */
export const STORE_FAILURE_POLICIES: readonly StoreFailurePolicy[] = ['open', 'closed', 'local'];

/** Values of postgres `synchronous_commit`. */
export const SYNCHRONOUS_COMMIT_VALUES = ['on', 'off', 'local', 'remote_write', 'remote_apply'];

/** Values of postgres `ssl_mode` (libpq's `sslmode` that `pg` implements). */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'];

/** Values of redis `driver`: the client library a store opens its connection with. */
export const REDIS_DRIVERS = ['ioredis', 'node-redis'];

/** What a key's value must be. Numbers are finite; strings from env become numbers here only. */
export type FieldType =
  | {
      readonly kind: 'number';
      readonly min: number;
      readonly inclusive: boolean;
      readonly max?: Bound;
    }
  | { readonly kind: 'integer'; readonly min: number; readonly max?: Bound }
  | { readonly kind: 'boolean' }
  | {
      readonly kind: 'string';
      /** Never shown in messages. */
      readonly secret?: boolean;
      /** Characters the value must not contain, and why. */
      readonly forbidden?: { readonly chars: RegExp; readonly expected: string };
    }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'identifier'; readonly maxLength: number }
  | { readonly kind: 'url' }
  /** A client object given in code (never in TOML), checked against the store's engine. */
  | { readonly kind: 'client' }
  /** The path of a PEM file, read (and checked readable) at validation. */
  | { readonly kind: 'pem-file' }
  | { readonly kind: 'host-port-list' }
  | { readonly kind: 'cidr-list' };

/** An inclusive upper bound, and why it is there (shown in the problem). */
export interface Bound {
  readonly value: number;
  readonly why: string;
}

/** One key of a store or limiter table. */
export interface FieldSpec {
  /** The TOML spelling. */
  readonly name: string;
  /** The TypeScript spelling (`StoreOptions` / `LimiterOptions` property). */
  readonly camel: string;
  readonly type: FieldType;
  /** The engines the key applies to (stores); all when absent. */
  readonly engines?: readonly EngineName[];
  /** The algorithms the key applies to (limiters); all when absent. */
  readonly algorithms?: readonly AlgorithmName[];
  /** Accepted for compatibility with the Python library and dropped: it has no effect here. */
  readonly ignored?: boolean;
}

/*
 * Upper bounds (docs/configuration.md, "Bounds"; docs/security.md, "Numeric bounds"). Every
 * number must fit what every engine holds: PostgreSQL integer columns, exact integers in
 * doubles (Lua, JS), and Node timers, which overflow past 2^31 - 1 ms (24.8 days) and fire at once.
 */
/** Counts (`limit`, `burst`, `max_concurrent`): PostgreSQL integer holds 2^31 - 1. */
export const MAX_COUNT = 1_000_000_000;
/**
 * `rate_per_second`: stores keep time as epoch-millisecond doubles, whose step is 2^-12 ms
 * until 2039 (2^-11 ms after). An emission interval of 0.01 ms spans about 41 (then 20) steps,
 * so each acquisition is charged within about 1.2% (then 2.4%) of its exact share; at 1e7/s an
 * interval is below one step and acquisitions cost nothing at all.
 */
export const MAX_RATE_PER_SECOND = 100_000;
/** Long durations (window, lease, wait): 365 days, in seconds. */
export const MAX_LONG_SECONDS = 365 * 86_400;

const positive = { kind: 'number', min: 0, inclusive: false } as const;
const nonNegative = { kind: 'number', min: 0, inclusive: true } as const;
const count = {
  kind: 'integer',
  min: 1,
  max: { value: MAX_COUNT, why: 'the largest count every engine stores' },
} as const;
/** A duration in seconds, at most `max` seconds (`why` names it). */
const seconds = (
  max: number,
  why: string,
  min: typeof positive | typeof nonNegative = positive,
): FieldType => ({
  ...min,
  max: { value: max, why },
});
const upToAnHour = seconds(3600, 'one hour');
const upToAYear = seconds(MAX_LONG_SECONDS, '365 days');
const flag = { kind: 'boolean' } as const;
/** `{` and `}` in a Redis key prefix would change the Redis Cluster hash tag of every key. */
const HASH_TAG_BRACES = {
  chars: /[{}]/,
  expected: 'a non-empty string without { or } (they would change the Redis Cluster hash tag)',
};
const NETWORKED: readonly EngineName[] = ['redis', 'postgres'];
const POOL_BOUND: Bound = { value: 1000, why: 'connections per process' };
/** A JS Map holds at most 2^24 (16,777,216) entries. */
const MAX_KEYS_BOUND: Bound = { value: 10_000_000, why: 'keys one process can track' };
const FLEET_BOUND: Bound = { value: 100_000, why: 'processes sharing one store' };
const DB_BOUND: Bound = { value: 2 ** 31 - 1, why: 'the largest Redis database index' };

function field(name: string, type: FieldType, scope: Partial<FieldSpec> = {}): FieldSpec {
  return {
    name,
    camel: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
    type,
    ...scope,
  };
}

/** Every key of `[stores.<id>]`. */
export const STORE_FIELDS: readonly FieldSpec[] = [
  field('engine', { kind: 'enum', values: ENGINES }),
  field('url', { kind: 'url' }, { engines: NETWORKED }),
  field('client', { kind: 'client' }, { engines: NETWORKED }),
  field('tls_ca_file', { kind: 'pem-file' }, { engines: NETWORKED }),
  field('tls_cert_file', { kind: 'pem-file' }, { engines: NETWORKED }),
  field('tls_key_file', { kind: 'pem-file' }, { engines: NETWORKED }),
  field('pool_min_size', { kind: 'integer', min: 0, max: POOL_BOUND }, { engines: NETWORKED }),
  field('pool_max_size', { kind: 'integer', min: 1, max: POOL_BOUND }, { engines: NETWORKED }),
  field('socket_timeout', upToAnHour, { engines: NETWORKED }),
  field('socket_connect_timeout', upToAnHour, { engines: NETWORKED }),
  field('timing_margin_ms', nonNegative, { engines: NETWORKED, ignored: true }),
  field('breaker_cooldown', upToAnHour),
  field('max_keys', { kind: 'integer', min: 1, max: MAX_KEYS_BOUND }, { engines: ['memory'] }),
  field('driver', { kind: 'enum', values: REDIS_DRIVERS }, { engines: ['redis'] }),
  field('db', { kind: 'integer', min: 0, max: DB_BOUND }, { engines: ['redis'] }),
  field('password', { kind: 'string', secret: true }, { engines: ['redis'] }),
  field('username', { kind: 'string' }, { engines: ['redis'] }),
  field('key_prefix', { kind: 'string', forbidden: HASH_TAG_BRACES }, { engines: ['redis'] }),
  field('cluster_nodes', { kind: 'host-port-list' }, { engines: ['redis'] }),
  field('sentinels', { kind: 'host-port-list' }, { engines: ['redis'] }),
  field('sentinel_name', { kind: 'string' }, { engines: ['redis'] }),
  field('sentinel_password', { kind: 'string', secret: true }, { engines: ['redis'] }),
  field('ssl_mode', { kind: 'enum', values: SSL_MODES }, { engines: ['postgres'] }),
  // The engine derives `<table>_acquire` and similar names, which must fit in 63 characters too.
  field(
    'table_name',
    { kind: 'identifier', maxLength: MAX_TABLE_NAME_LENGTH },
    {
      engines: ['postgres'],
    },
  ),
  field(
    'schema_name',
    { kind: 'identifier', maxLength: MAX_IDENTIFIER_LENGTH },
    {
      engines: ['postgres'],
    },
  ),
  field('auto_create', flag, { engines: ['postgres'] }),
  field('unlogged', flag, { engines: ['postgres'] }),
  field(
    'synchronous_commit',
    { kind: 'enum', values: SYNCHRONOUS_COMMIT_VALUES },
    {
      engines: ['postgres'],
    },
  ),
  field('cleanup_interval', seconds(86_400, 'one day'), { engines: ['postgres'] }),
  field('fleet_size', { kind: 'integer', min: 1, max: FLEET_BOUND }, { engines: NETWORKED }),
  field('heartbeat_interval', upToAnHour, { engines: NETWORKED }),
];

/** Every key of `[limiters.<id>]`. */
export const LIMITER_FIELDS: readonly FieldSpec[] = [
  field('store', { kind: 'string' }),
  field('algorithm', { kind: 'enum', values: ALGORITHMS }),
  field(
    'rate_per_second',
    {
      ...positive,
      max: { value: MAX_RATE_PER_SECOND, why: 'finer than the stores time acquisitions' },
    },
    { algorithms: ['token_bucket'] },
  ),
  field('burst', count, { algorithms: ['token_bucket'] }),
  field('max_concurrent', count),
  field('lease_seconds', upToAYear),
  field('max_hold_seconds', upToAYear),
  field('limit', count, { algorithms: ['sliding_window'] }),
  field('window_seconds', upToAYear, { algorithms: ['sliding_window'] }),
  field('block_seconds', upToAYear),
  field('timeout', seconds(MAX_LONG_SECONDS, '365 days', nonNegative)),
  field('fail_closed', flag),
  field('on_store_failure', { kind: 'enum', values: STORE_FAILURE_POLICIES }),
  field('enforce', flag),
];

/** Every key of the Python library's `[fastapi]` table, accepted so its files load unchanged. */
export const FASTAPI_FIELDS: readonly FieldSpec[] = [
  field('trusted_proxy_networks', { kind: 'cidr-list' }),
];

/** The top-level tables. */
export const TOP_LEVEL_KEYS: readonly string[] = ['stores', 'limiters', 'fastapi'];
