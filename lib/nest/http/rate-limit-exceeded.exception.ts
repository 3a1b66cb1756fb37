import { HttpException, HttpStatus } from '@nestjs/common';
import type { RateLimitResult } from '../../core';
import { retryAfterSeconds } from './rate-limit-headers';

/** The JSON body of a 429 answer. */
export interface RateLimitExceededBody {
  /** Always 429. */
  readonly statusCode: 429;
  /** The status text. */
  readonly error: 'Too Many Requests';
  /** For people: which limit, and when to retry. */
  readonly message: string;
  /** The limiter that rejected (for a composite: the blocking layer). */
  readonly limiter: string;
  /** Seconds to wait before retrying, as in `Retry-After` (rounded up, at least 1). */
  readonly retryAfter: number;
  /** Milliseconds to wait before retrying (exact). */
  readonly retryAfterMs: number;
}

/**
 * HTTP 429 Too Many Requests, thrown by the guard when a `@RateLimit` rejects a request, or by
 * your code with a decision of `LimiterService.check`. Carries the decision; its body is a
 * {@link RateLimitExceededBody}; `RateLimitExceptionFilter` answers it with the decision's
 * header fields and `Retry-After`, wherever it was thrown.
 */
export class RateLimitExceededException extends HttpException {
  constructor(
    /** The decision that rejected the request. */
    readonly result: RateLimitResult,
  ) {
    const retryAfter = retryAfterSeconds(result.retryAfterMs);
    const body: RateLimitExceededBody = {
      statusCode: HttpStatus.TOO_MANY_REQUESTS,
      error: 'Too Many Requests',
      message: `Rate limit '${result.limiterId}' exceeded. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
      limiter: result.limiterId,
      retryAfter,
      retryAfterMs: Math.ceil(result.retryAfterMs),
    };
    super(body, HttpStatus.TOO_MANY_REQUESTS);
    this.name = 'RateLimitExceededException';
  }
}
