import type { CompositeResult, RateLimitResult } from './result';

/** How a composite decision combines its layers (the Python library's strategies). */
export type CompositeStrategy = 'most_restrictive' | 'all_must_pass' | 'any_must_pass';

/**
 * Merges layer results into one: allowed per the strategy; the blocking layer named; limit,
 * remaining and reset from the most restrictive layer; the longest retry delay.
 */
export function combineResults(
  layers: RateLimitResult[],
  strategy: CompositeStrategy,
): CompositeResult {
  const allowed =
    strategy === 'any_must_pass' ? layers.some((r) => r.allowed) : layers.every((r) => r.allowed);
  const blocking = allowed ? undefined : layers.find((r) => !r.allowed);
  const tightest = blocking ?? layers.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  const retryAfterMs = allowed
    ? 0
    : Math.max(...layers.filter((r) => !r.allowed).map((r) => r.retryAfterMs));
  return {
    ...tightest,
    allowed,
    retryAfterMs,
    resetAt: Math.max(...layers.map((r) => r.resetAt)),
    layers,
    blockingLimiterId: blocking?.limiterId,
  };
}
