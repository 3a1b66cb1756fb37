import { StoreUnavailableError, type RateLimitResult } from '../../core';
import { retryAfterSeconds } from '../http/rate-limit-headers';

/** The `code` of a rejection outside HTTP: the limit is reached. */
export const RATE_LIMITED = 'RATE_LIMITED';
/** The `code` of a rejection outside HTTP: a fail_closed limiter's store cannot decide. */
export const RATE_LIMIT_UNAVAILABLE = 'RATE_LIMIT_UNAVAILABLE';

/**
 * What a client outside HTTP receives when `@RateLimit` rejects its call: the `extensions` of
 * the GraphQL error, the `WsException` payload, the `RpcException` error. The same fields as
 * the HTTP 429 body.
 */
export interface RateLimitRejection {
  /** `'RATE_LIMITED'`, or `'RATE_LIMIT_UNAVAILABLE'` when a fail_closed store is down. */
  readonly code: typeof RATE_LIMITED | typeof RATE_LIMIT_UNAVAILABLE;
  /** For people: which limit, and when to retry. */
  readonly message: string;
  /** The limiter that rejected (for a composite: the blocking layer). */
  readonly limiter: string;
  /** Seconds to wait before retrying, as in `Retry-After` (rounded up, at least 1). */
  readonly retryAfter: number;
  /** Milliseconds to wait before retrying. */
  readonly retryAfterMs: number;
}

/** The payload describing a rejection (a decision) or a fail_closed store outage. */
export function rateLimitRejection(
  subject: RateLimitResult | StoreUnavailableError,
): RateLimitRejection {
  const retryAfterMs = Math.ceil(subject.retryAfterMs);
  const retryAfter = retryAfterSeconds(retryAfterMs);
  const seconds = `${retryAfter} second${retryAfter === 1 ? '' : 's'}`;
  if (subject instanceof StoreUnavailableError) {
    const limiter = subject.limiterId ?? '';
    return {
      code: RATE_LIMIT_UNAVAILABLE,
      message: `Rate limit '${limiter}' cannot be checked: its store is unavailable. Retry in ${seconds}.`,
      limiter,
      retryAfter,
      retryAfterMs,
    };
  }
  return {
    code: RATE_LIMITED,
    message: `Rate limit '${subject.limiterId}' exceeded. Retry in ${seconds}.`,
    limiter: subject.limiterId,
    retryAfter,
    retryAfterMs,
  };
}
