import type { RateLimitResult } from '../result';
import { RateSyncError } from './rate-sync.error';

/** An acquisition was rejected: the limit is reached and the wait would exceed the timeout. */
export class RateLimitExceededError extends RateSyncError {
  constructor(readonly result: RateLimitResult) {
    super(
      `Rate limit '${result.limiterId}' exceeded for key '${result.key}'; ` +
        `retry in ${Math.ceil(result.retryAfterMs)} ms.`,
    );
    this.name = 'RateLimitExceededError';
  }
}
