import { RateSyncError } from './rate-sync.error';
import { errorText } from '../error-text';

/**
 * The store could not be reached (or its circuit breaker is open) and the limiter is
 * `fail_closed`, so the acquisition is rejected. Over HTTP this becomes a 503.
 */
export class StoreUnavailableError extends RateSyncError {
  constructor(
    /** The store that could not decide. */
    readonly storeId: string,
    /** The fail_closed limiter that was asked, when known. */
    readonly limiterId: string | undefined,
    /** Suggested delay before retrying, in milliseconds. */
    readonly retryAfterMs: number,
    cause?: unknown,
  ) {
    const why = cause === undefined ? '' : `: ${errorText(cause)}`;
    super(
      `Store '${storeId}' is unavailable${limiterId ? ` (limiter '${limiterId}' is fail_closed)` : ''}${why}`,
      { cause },
    );
    this.name = 'StoreUnavailableError';
  }
}
