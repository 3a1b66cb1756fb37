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
  if (layers.length === 1) return singleLayer(layers[0]);
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

/** The composite view of a single layer's result, written out (a spread is slow on this path). */
function singleLayer(r: RateLimitResult): CompositeResult {
  return {
    allowed: r.allowed,
    limit: r.limit,
    remaining: r.remaining,
    resetAt: r.resetAt,
    now: r.now,
    retryAfterMs: r.retryAfterMs,
    limiterId: r.limiterId,
    key: r.key,
    blockedBy: r.blockedBy,
    failedOpen: r.failedOpen,
    waitedMs: r.waitedMs,
    shadow: r.shadow,
    layers: [r],
    blockingLimiterId: r.allowed ? undefined : r.limiterId,
  };
}
