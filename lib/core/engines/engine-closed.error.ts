import { RateSyncError } from '../errors';
import type { EngineName } from '../options';

/**
 * What a shared engine (Redis, PostgreSQL) rejects with once `close()` was called: `close()`
 * is final, so `connect()` and every store call after it fail instead of reopening clients or
 * pools behind a shutdown. Connecting again takes a new engine (a new application).
 */
export function engineClosedError(storeId: string, engine: EngineName, op: string): RateSyncError {
  return new RateSyncError(
    `Store '${storeId}': ${op} called after the ${engine} engine was closed. A closed engine ` +
      'does not reopen: create a new application (or RateSyncModule) to connect again.',
  );
}
