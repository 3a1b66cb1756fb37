import { BreakerOpenError } from './circuit-breaker';
import { RateSyncError, StoreUnavailableError } from './errors';
import type { StoreHandle } from './store-handle';

/**
 * The one place that tells an outage from a bad call. Only a connectivity failure (the store
 * cannot be reached, does not answer in time, or is out of resources) opens a store's circuit
 * breaker and is answered by `fail_closed` / fail-open. Any other error was caused by one call's
 * data (a value the store cannot hold, a script error): it fails that call alone, as an error
 * naming the limiter, and every other limiter of the store carries on.
 */
export function isConnectivityFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof BreakerOpenError) return true;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && connectivityCode(code)) return true;
    if (typeof message === 'string' && CONNECTIVITY_MESSAGE.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Node socket errors, and PostgreSQL SQLSTATE classes of connections and resources. */
function connectivityCode(code: string): boolean {
  if (SOCKET_CODES.has(code)) return true;
  // 08 connection exception, 53 insufficient resources (too many connections...), 57 operator
  // intervention (statement timeout 57014, shutdown 57P01-57P03), 58 system (I/O) error.
  return /^(08|53|57|58)[0-9A-Z]{3}$/.test(code);
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ERR_SOCKET_CLOSED',
]);

/**
 * Driver and server messages of connectivity failures: ioredis ("Command timed out",
 * "Connection is closed.", "Stream isn't writeable...", "Reached the max retries per
 * request..."), node-redis ("Socket closed unexpectedly", "Disconnects client", "Command aborted
 * while waiting for a reply", a cluster's "All the root nodes are unavailable", "Too many
 * Cluster redirections", "Could not find shard", "Cluster closed"), pg ("Connection
 * terminated unexpectedly", "timeout exceeded when trying to connect": the pool is exhausted,
 * "Query read timeout"), Redis replies of a server that cannot
 * serve now (LOADING, BUSY, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, READONLY, OOM), and our engines'
 * own "closed" and "not ready" states.
 */
const CONNECTIVITY_MESSAGE = new RegExp(
  [
    'time[d ]? ?out',
    'connection (is )?closed',
    'connection (terminated|ended|refused|reset|lost)',
    'socket closed unexpectedly',
    'disconnects client',
    'aborted while waiting for a reply',
    'all the root nodes are unavailable',
    'too many cluster redirections',
    'could not find shard',
    'cluster closed',
    'connection error',
    "stream isn't writeable",
    'max retries per request',
    'not connected',
    'not ready after',
    'engine (is|was) closed',
    'socket hang up',
    'pool after calling end',
    'the database system is',
    'none of startup nodes is available',
    'failed to refresh slots cache',
    '^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOREPLICAS|OOM)\\b',
  ].join('|'),
  'i',
);

/**
 * The error of a store call that failed for a reason of its own (not an outage): thrown to the
 * caller as it is, never admitted silently (fail-open) nor counted against the store's circuit
 * breaker. A plain {@link RateSyncError}, caught with the package's other errors.
 */
export function storeCallError(storeId: string, limiterIds: string, cause: unknown): RateSyncError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RateSyncError(
    `Limiter ${limiterIds}: store '${storeId}' could not decide this call (${why}). Nothing was ` +
      `admitted, and the store's other limiters are unaffected: check the limiter's settings ` +
      `and the call's arguments (cost).`,
    { cause },
  );
}

/**
 * The error of a failed store call that is not an acquisition (state, reset): a
 * {@link StoreUnavailableError} for an outage, else {@link storeCallError}.
 */
export function storeFailure(store: StoreHandle, limiterId: string, err: unknown): RateSyncError {
  if (!isConnectivityFailure(err)) return storeCallError(store.id, `'${limiterId}'`, err);
  return new StoreUnavailableError(store.id, limiterId, store.breaker.retryAfterMs, err);
}
