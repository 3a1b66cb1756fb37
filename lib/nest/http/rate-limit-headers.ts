import {
  StoreUnavailableError,
  type Clock,
  type CompositeResult,
  type RateLimitResult,
  type RateSync,
  systemClock,
} from '../../core';

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

/**
 * What `X-RateLimit-Reset` holds: `'epoch'`, the epoch second at which the key is back to its
 * full limit; `'delay'`, the seconds until then (rounded up).
 */
export type ResetHeaderMode = 'epoch' | 'delay';

/** The reset modes, for validation. */
export const RESET_HEADER_MODES: readonly ResetHeaderMode[] = ['epoch', 'delay'];

/** `Retry-After` seconds for a delay in milliseconds: rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** What an answer's header fields describe: a decision, or a store that could not decide. */
export type HeadersSubject = RateLimitResult | CompositeResult | StoreUnavailableError;

/**
 * Receives an answer's header fields one by one, with the `target` it was given (the response).
 * A plain function and a target rather than a closure: the guard writes on every request.
 */
export type HeaderWriter<T> = (target: T, name: string, value: string) => void;

/** The module settings the header fields depend on. */
export interface HeaderSettings {
  readonly headers: RateLimitHeadersMode;
  readonly clock: Clock;
  readonly resetHeader?: ResetHeaderMode;
}

/**
 * Every rate-limit header field of an answer about `subject`, per the module's `headers` mode:
 * for a decision, its fields (see {@link rateLimitHeaders}) and `Retry-After` when it rejected;
 * for a store failure (a 503), `Retry-After` alone. The one rule for the guard's answers and for
 * the exceptions `RateLimitExceptionFilter` answers. None in shadow mode.
 */
export function responseHeaders(
  subject: HeadersSubject,
  settings: HeaderSettings,
  rateSync: RateSync,
): [name: string, value: string][] {
  const headers: [string, string][] = [];
  writeResponseHeaders(subject, settings, rateSync, collect, headers);
  return headers;
}

/** {@link responseHeaders}, each field handed to `write` instead of collected. */
export function writeResponseHeaders<T>(
  subject: HeadersSubject,
  settings: HeaderSettings,
  rateSync: RateSync,
  write: HeaderWriter<T>,
  target: T,
): void {
  if (subject instanceof StoreUnavailableError) {
    return write(target, 'Retry-After', String(retryAfterSeconds(subject.retryAfterMs)));
  }
  if (subject.shadow) return; // shadow mode: the client must not see a limit being tried
  const mode = settings.headers;
  // `RateLimit-Policy`'s windows: only the IETF fields read them.
  const windowOf =
    mode === 'ietf' || mode === 'both'
      ? (id: string): number | undefined => rateSync.policy(id)?.periodSeconds
      : noWindow;
  writeRateLimitHeaders(
    subject,
    mode,
    // The clock of the response's `Date` header: the system's wall clock (the real clock of
    // this package counts from the process's start on a monotonic timer, and drifts from it
    // when the system clock is stepped), or the clock given in the options.
    settings.clock === systemClock ? Date.now() : settings.clock.now(),
    windowOf,
    settings.resetHeader,
    write,
    target,
  );
}

/**
 * The header fields describing a decision. Times until the reset are measured on the store's
 * clock (`resetAt - now` of each result), never against this process's clock, which may differ
 * from a Redis or PostgreSQL server's.
 *
 * @param processNow epoch milliseconds of this process's clock: `X-RateLimit-Reset` is given on
 *   it (the clock of the response's `Date` header), and it stands in for a result's `now` when
 *   that is absent
 * @param windowOf the window, in seconds, of a limiter's policy (`RateLimit-Policy`'s `w`),
 *   or undefined when it has none (a pure concurrency limiter)
 * @param resetMode what `X-RateLimit-Reset` holds (default `'epoch'`); `'delay'`: the seconds
 *   until the reset (rounded up), on the store's clock like `RateLimit`'s `t`
 */
export function rateLimitHeaders(
  result: RateLimitResult | CompositeResult,
  mode: RateLimitHeadersMode,
  processNow: number,
  windowOf: (limiterId: string) => number | undefined,
  resetMode: ResetHeaderMode = 'epoch',
): [name: string, value: string][] {
  const headers: [string, string][] = [];
  writeRateLimitHeaders(result, mode, processNow, windowOf, resetMode, collect, headers);
  return headers;
}

/** {@link rateLimitHeaders}, each field handed to `write` instead of collected. */
function writeRateLimitHeaders<T>(
  result: RateLimitResult | CompositeResult,
  mode: RateLimitHeadersMode,
  processNow: number,
  windowOf: (limiterId: string) => number | undefined,
  resetMode: ResetHeaderMode | undefined,
  write: HeaderWriter<T>,
  target: T,
): void {
  // A fail-open admission counted nothing: its numbers would be made up.
  if (!result.failedOpen && (mode === 'legacy' || mode === 'both')) {
    const until = untilReset(result, processNow);
    const reset = Math.ceil((resetMode === 'delay' ? until : processNow + until) / 1000);
    write(target, 'X-RateLimit-Limit', String(result.limit));
    write(target, 'X-RateLimit-Remaining', String(result.remaining));
    write(target, 'X-RateLimit-Reset', String(reset));
  }
  if (!result.failedOpen && (mode === 'ietf' || mode === 'both')) {
    const layers = 'layers' in result ? result.layers : [result];
    const policy = layers.map((l) => {
      const w = windowOf(l.limiterId);
      return `${sfString(l.limiterId)};q=${l.limit}${w === undefined ? '' : `;w=${w}`}`;
    });
    const state = layers.map((l) => {
      const t = Math.ceil(untilReset(l, processNow) / 1000);
      return `${sfString(l.limiterId)};r=${l.remaining};t=${t}`;
    });
    write(target, 'RateLimit-Policy', policy.join(', '));
    write(target, 'RateLimit', state.join(', '));
  }
  if (!result.allowed) {
    write(target, 'Retry-After', String(retryAfterSeconds(result.retryAfterMs)));
  }
}

/** Milliseconds until a result's reset, on the clock that decided it. */
function untilReset(result: RateLimitResult, processNow: number): number {
  return Math.max(0, result.resetAt - (result.now ?? processNow));
}

function noWindow(): undefined {
  return undefined;
}

function collect(headers: [string, string][], name: string, value: string): void {
  headers.push([name, value]);
}

/** A structured-field string (RFC 8941): quoted, with `\` and `"` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`;
}
