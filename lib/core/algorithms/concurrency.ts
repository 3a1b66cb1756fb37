/**
 * Concurrency leases (DESIGN 3.2) as a pure function. State is the set of leases with their
 * expiry (epoch ms); expired leases do not count. A slot is free when fewer than `max` live
 * leases exist.
 */
export interface ConcurrencyOutcome {
  readonly allowed: boolean;
  /** Live leases before this decision. */
  readonly active: number;
  /** When full: ms until the earliest lease expires. */
  readonly retryAfterMs: number;
  /** Epoch ms when the last live lease expires (now when none). */
  readonly resetAt: number;
}

export function concurrency(
  expiries: Iterable<number>,
  now: number,
  max: number,
): ConcurrencyOutcome {
  let active = 0;
  let earliest = Number.POSITIVE_INFINITY;
  let latest = now;
  for (const e of expiries) {
    if (e <= now) continue;
    active++;
    if (e < earliest) earliest = e;
    if (e > latest) latest = e;
  }
  const allowed = active < max;
  return { allowed, active, retryAfterMs: allowed ? 0 : earliest - now, resetAt: latest };
}
