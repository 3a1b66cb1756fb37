import type { LimiterPolicy } from './policy';

/**
 * A limit divided by the fleet size: floor, at least 1. The rate is divided exactly (the
 * emission interval multiplied), the burst, window limit and concurrency are floored.
 */
export function localPolicy(p: LimiterPolicy, fleet: number): LimiterPolicy {
  if (fleet <= 1) return p;
  const share = (v: number): number => Math.max(1, Math.floor(v / fleet));
  return {
    ...p,
    gcra: p.gcra && { intervalMs: p.gcra.intervalMs * fleet, burst: share(p.gcra.burst) },
    window: p.window && { ...p.window, limit: share(p.window.limit) },
    concurrency: p.concurrency && { ...p.concurrency, max: share(p.concurrency.max) },
  };
}

/**
 * How long the processes of a fleet take to all see a store back, in ms: the Redis client's
 * reconnection back-off (at most 1 s) plus a breaker cool-down for the probe, doubled for
 * margin. The carry-over after a recovery lasts at least this long.
 */
export function switchBackMs(breakerCooldownMs: number): number {
  return 2 * (breakerCooldownMs + 1000);
}

/** The window, or the time a token bucket takes to refill its burst; 0 for concurrency only. */
export function periodMs(p: LimiterPolicy): number {
  return p.window?.windowMs ?? (p.gcra ? p.gcra.burst * p.gcra.intervalMs : 0);
}
