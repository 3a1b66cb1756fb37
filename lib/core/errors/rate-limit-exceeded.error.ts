import type { RateLimitResult } from '../result';
import { RateSyncError } from './rate-sync.error';

/** An acquisition was rejected: the limit is reached and the wait would exceed the timeout. */
export class RateLimitExceededError extends RateSyncError {
  constructor(
    /** The rejected decision: `retryAfterMs`, `limit`, `remaining`, `resetAt`... */
    readonly result: RateLimitResult,
  ) {
    super(
      `Rate limit '${result.limiterId}' exceeded for key '${result.key}'; ` +
        `retry in ${Math.ceil(result.retryAfterMs)} ms.`,
    );
    this.name = 'RateLimitExceededError';
  }
}
