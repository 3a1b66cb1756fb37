import { RateLimiterRes } from 'rate-limiter-flexible';

/**
 * rate-limiter-flexible's `consume()` as an admitted/rejected boolean: it rejects with a
 * `RateLimiterRes` when the limit is reached and with an `Error` on failure (rethrown, counted
 * as an error by the harness).
 */
export function consumed(pending: Promise<unknown>): Promise<boolean> {
  return pending.then(
    () => true,
    (res: unknown) => {
      if (res instanceof RateLimiterRes) return false;
      throw res;
    },
  );
}
