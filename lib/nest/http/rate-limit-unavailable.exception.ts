import { HttpException, HttpStatus } from '@nestjs/common';
import type { StoreUnavailableError } from '../../core';
import { retryAfterSeconds } from './rate-limit-headers';

/** The JSON body of a 503 answer. The store's address and the cause are never included. */
export interface RateLimitUnavailableBody {
  /** Always 503. */
  readonly statusCode: 503;
  /** The status text. */
  readonly error: 'Service Unavailable';
  /** For people: which limiter, and that its store is unavailable. */
  readonly message: string;
  /** The fail_closed limiter whose store failed. */
  readonly limiter: string | undefined;
  /** Seconds to wait before retrying, as in `Retry-After` (at least 1). */
  readonly retryAfter: number;
}

/**
 * HTTP 503 Service Unavailable, thrown by the guard when the store of a `fail_closed` limiter
 * cannot decide. Carries the core's {@link StoreUnavailableError} as `cause`;
 * `RateLimitExceptionFilter` answers it with `Retry-After`, wherever it was thrown.
 */
export class RateLimitUnavailableException extends HttpException {
  /** Seconds to wait before retrying (the `Retry-After` value). */
  readonly retryAfter: number;

  constructor(
    /** The store failure. */
    readonly error: StoreUnavailableError,
  ) {
    const retryAfter = retryAfterSeconds(error.retryAfterMs);
    const body: RateLimitUnavailableBody = {
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      message: `Rate limiting is unavailable${error.limiterId ? ` for '${error.limiterId}'` : ''}. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
      limiter: error.limiterId,
      retryAfter,
    };
    super(body, HttpStatus.SERVICE_UNAVAILABLE, { cause: error });
    this.retryAfter = retryAfter;
    this.name = 'RateLimitUnavailableException';
  }
}
