import type { CompositeResult, RateLimitResult } from '../../core';

/**
 * Which rate-limit header fields responses carry:
 * - `'legacy'`: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (the Python
 *   rate-sync set; Reset in epoch seconds);
 * - `'ietf'`: `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers);
 * - `'both'`; or `false`: none of them.
 *
 * `Retry-After` is sent on every 429 and 503 whatever this says.
 */
export type RateLimitHeadersMode = 'legacy' | 'ietf' | 'both' | false;

/** The header modes, for validation. */
export const HEADERS_MODES: readonly RateLimitHeadersMode[] = ['legacy', 'ietf', 'both', false];

/** `Retry-After` seconds for a delay in milliseconds: rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/**
 * The header fields describing a decision.
 *
 * @param now epoch milliseconds of the clock that produced `result.resetAt`
 * @param windowOf the window, in seconds, of a limiter's policy (`RateLimit-Policy`'s `w`),
 *   or undefined when it has none (a pure concurrency limiter)
 */
export function rateLimitHeaders(
  result: RateLimitResult | CompositeResult,
  mode: RateLimitHeadersMode,
  now: number,
  windowOf: (limiterId: string) => number | undefined,
): [name: string, value: string][] {
  const headers: [string, string][] = [];
  // A fail-open admission counted nothing: its numbers would be made up.
  if (!result.failedOpen && (mode === 'legacy' || mode === 'both')) {
    headers.push(
      ['X-RateLimit-Limit', String(result.limit)],
      ['X-RateLimit-Remaining', String(result.remaining)],
      ['X-RateLimit-Reset', String(Math.ceil(result.resetAt / 1000))],
    );
  }
  if (!result.failedOpen && (mode === 'ietf' || mode === 'both')) {
    const layers = 'layers' in result ? result.layers : [result];
    const policy = layers.map((l) => {
      const w = windowOf(l.limiterId);
      return `${sfString(l.limiterId)};q=${l.limit}${w === undefined ? '' : `;w=${w}`}`;
    });
    const state = layers.map((l) => {
      const t = Math.max(0, Math.ceil((l.resetAt - now) / 1000));
      return `${sfString(l.limiterId)};r=${l.remaining};t=${t}`;
    });
    headers.push(['RateLimit-Policy', policy.join(', ')], ['RateLimit', state.join(', ')]);
  }
  if (!result.allowed)
    headers.push(['Retry-After', String(retryAfterSeconds(result.retryAfterMs))]);
  return headers;
}

/** A structured-field string (RFC 8941): quoted, with `\` and `"` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`;
}
