import type { ClientConfig, PoolConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { readPem } from '../tls-files';
import { MAX_TIMER_MS, timerMs } from '../../clock';
import { redactUrl, scrubUrlSecrets } from '../../config/redact';
import { InvalidArgumentError } from '../../errors';
import type { StoreOptions } from '../../options';

/** Defaults of the timing options, in seconds (StoreOptions' documented defaults). */
export const DEFAULT_SOCKET_TIMEOUT = 1;
export const DEFAULT_CONNECT_TIMEOUT = 5;
export const DEFAULT_POOL_MAX = 10;
export const DEFAULT_CLEANUP_INTERVAL = 60;

/** The accepted values of `synchronous_commit`. */
const SYNC_VALUES = ['on', 'off', 'local', 'remote_write', 'remote_apply'] as const;

/** Timeouts derived from the store options, in milliseconds. */
export interface Timeouts {
  /** Server-side `statement_timeout` of every decision. */
  readonly statementMs: number;
  /** Client-side limit of every query: the statement timeout plus a grace, for a silent network. */
  readonly queryMs: number;
  /** Connecting, and waiting for a free pooled connection. */
  readonly connectMs: number;
}

/** How much longer than the server's statement timeout the client waits for an answer. */
export const QUERY_GRACE_MS = 250;

export function timeouts(o: StoreOptions): Timeouts {
  // queryMs arms a timer too: keep it within a timer's range.
  const statementMs = Math.min(
    timerMs(o.socketTimeout ?? DEFAULT_SOCKET_TIMEOUT),
    MAX_TIMER_MS - QUERY_GRACE_MS,
  );
  return {
    statementMs,
    queryMs: statementMs + QUERY_GRACE_MS,
    connectMs: timerMs(o.socketConnectTimeout ?? DEFAULT_CONNECT_TIMEOUT),
  };
}

/** `synchronous_commit` for decisions, validated. @default "off" */
export function synchronousCommit(o: StoreOptions): string {
  const value = o.synchronousCommit ?? 'off';
  if (!(SYNC_VALUES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      'synchronousCommit',
      `expected one of ${SYNC_VALUES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Connection settings shared by the pool and the LISTEN client: the URL (or libpq's PG*
 * environment variables when there is none), timeouts, TCP keep-alive, and an
 * `application_name` of `rate-sync:<store>` unless the URL sets one.
 */
export function clientConfig(storeId: string, o: StoreOptions): ClientConfig {
  const t = timeouts(o);
  return {
    connectionString: o.url,
    connectionTimeoutMillis: t.connectMs,
    statement_timeout: t.statementMs,
    query_timeout: t.queryMs,
    keepAlive: true,
    fallback_application_name: `rate-sync:${storeId}`,
    ...sslConfig(storeId, o),
  };
}

/**
 * The `ssl` option from `sslMode` and the certificate files (read now: at startup, and again
 * for each LISTEN connection). Nothing when neither is given: the URL's `sslmode`, or the
 * `PGSSLMODE` of the environment, applies as `pg` reads it. Files without `sslMode` mean
 * `verify-full`.
 */
export function sslConfig(storeId: string, o: StoreOptions): { ssl?: false | ConnectionOptions } {
  const files = { ca: o.tlsCaFile, cert: o.tlsCertFile, key: o.tlsKeyFile };
  const given = Object.entries(files).filter(([, path]) => path !== undefined);
  const mode = o.sslMode ?? (given.length > 0 ? 'verify-full' : undefined);
  if (mode === undefined) return {};
  if (mode === 'disable') return { ssl: false };
  const ssl: ConnectionOptions = { rejectUnauthorized: mode !== 'require' };
  for (const [name, path] of given) {
    (ssl as Record<string, Buffer>)[name] = readPem(storeId, name, path as string);
  }
  // verify-ca: the chain is checked, the host name is not (libpq's meaning).
  if (mode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  return { ssl };
}

/**
 * The store's one pool: the connection settings without `query_timeout`, which the engine
 * keeps for all pooled queries with one timer (`query-deadline.ts`) instead of `pg`'s timer
 * per query.
 */
export function poolConfig(storeId: string, o: StoreOptions): PoolConfig {
  const { query_timeout: _perQueryTimer, ...connection } = clientConfig(storeId, o);
  return {
    ...connection,
    min: o.poolMinSize ?? 0,
    max: o.poolMaxSize ?? DEFAULT_POOL_MAX,
    // Idle connections do not keep the process alive: close() is still the way to end.
    allowExitOnIdle: true,
  };
}

/** Where the store connects, for messages: the URL with credentials hidden. */
export function describeTarget(o: StoreOptions): string {
  if (o.client) return 'the pool given in code';
  return o.url ? redactUrl(o.url) : 'the server of the PG* environment variables';
}

/**
 * Removes the URL's credentials from a message, in case a driver error quotes them (or, for a
 * malformed URL, names a piece of them as the host: `getaddrinfo ENOTFOUND <piece>`). Messages
 * are built without them; this is the second line of defence.
 */
export function scrubSecrets(message: string, o: StoreOptions): string {
  return scrubUrlSecrets(message, o.url);
}
