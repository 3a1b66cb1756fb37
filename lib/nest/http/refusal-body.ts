import type { ArgumentsHost } from '@nestjs/common';
import type { CompositeResult, RateLimitResult, StoreUnavailableError } from '../../core';
import type { RateLimitExceededBody } from './rate-limit-exceeded.exception';
import type { RateLimitUnavailableBody } from './rate-limit-unavailable.exception';

/** What a body factory of the `errorBody` option is told about a 429 or a 503. */
export interface RateLimitRefusalInfo {
  /** 429 (a limit rejected) or 503 (a fail_closed limiter's store could not decide). */
  readonly status: 429 | 503;
  /** The limiters that rejected (429) or whose store failed (503; empty when unknown). */
  readonly limiterIds: readonly string[];
  /** Seconds before a retry, as sent in `Retry-After`. */
  readonly retryAfter: number;
  /** The decision, on a 429. */
  readonly result?: RateLimitResult;
  /** The store failure, on a 503. */
  readonly error?: StoreUnavailableError;
  /** The body this library sends by default. */
  readonly defaultBody: RateLimitExceededBody | RateLimitUnavailableBody;
}

/**
 * Builds the body of a 429 or 503 answer. `host` is the request's (use
 * `host.switchToHttp().getRequest()`). The headers are set whatever the body.
 */
export type RefusalBodyFactory = (refusal: RateLimitRefusalInfo, host: ArgumentsHost) => unknown;

/**
 * The body of 429 and 503 answers: `'json'` (this library's JSON body), `'problem'` (an RFC 9457
 * `application/problem+json` document naming the limiters), or a {@link RefusalBodyFactory}.
 */
export type RefusalBodyOption = 'json' | 'problem' | RefusalBodyFactory;

/** The media type of `'problem'` bodies. */
export const PROBLEM_JSON = 'application/problem+json';

/** An RFC 9457 problem details document for a 429 or a 503. */
export interface RateLimitProblemDetails {
  /** `about:blank`: the status code says it all. */
  readonly type: 'about:blank';
  /** The status text. */
  readonly title: 'Too Many Requests' | 'Service Unavailable';
  /** The status code, as sent. */
  readonly status: 429 | 503;
  /** For people: which limit, and when to retry. */
  readonly detail: string;
  /** Extension: the limiters that rejected, or whose store failed. */
  readonly limiters: readonly string[];
  /** Extension: seconds before a retry, as in `Retry-After`. */
  readonly retryAfter: number;
}

/** The limiters a decision rejected on: the failing layers of a composite, else the limiter. */
export function violatedLimiters(result: RateLimitResult | CompositeResult): string[] {
  if ('layers' in result) {
    const failing = result.layers.filter((l) => !l.allowed).map((l) => l.limiterId);
    if (failing.length) return failing;
    return [result.blockingLimiterId ?? result.limiterId];
  }
  return [result.limiterId];
}

/** The RFC 9457 document describing a refusal. */
export function problemDetails(refusal: RateLimitRefusalInfo): RateLimitProblemDetails {
  return {
    type: 'about:blank',
    title: refusal.status === 429 ? 'Too Many Requests' : 'Service Unavailable',
    status: refusal.status,
    detail: refusal.defaultBody.message,
    limiters: refusal.limiterIds,
    retryAfter: refusal.retryAfter,
  };
}
