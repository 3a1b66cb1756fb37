/**
 * GCRA (generic cell rate algorithm), the token bucket of DESIGN 3.1, as a pure function.
 *
 * State is one number, the theoretical arrival time `tat` (epoch ms). Emission interval
 * `T = 1000 / rate_per_second`, tolerance `tau = (burst - 1) * T`. An acquisition of `cost`
 * is due at `max(tat, now) + (cost - 1) * T - tau`; the wait is how far that lies after now.
 * Within `maxWaitMs` the slot is reserved (`tat` advances by `cost * T`) and the caller sleeps
 * the wait; beyond it nothing changes and the caller is told when to retry.
 */
export interface GcraParams {
  readonly intervalMs: number;
  readonly burst: number;
}

export interface GcraOutcome {
  readonly allowed: boolean;
  /** When allowed: ms to sleep until the reserved slot. */
  readonly waitMs: number;
  /** When rejected: ms until the same acquisition would be admitted at once. */
  readonly retryAfterMs: number;
  /** The state to store (unchanged when rejected). */
  readonly tat: number;
  readonly remaining: number;
  /** Epoch ms when the bucket is full again. */
  readonly resetAt: number;
}

/** Guards floor() against binary fractions such as 1000 / 3. */
const EPSILON = 1e-9;

export function gcra(
  tat: number | undefined,
  now: number,
  p: GcraParams,
  cost: number,
  maxWaitMs: number,
): GcraOutcome {
  const t = p.intervalMs;
  const tau = (p.burst - 1) * t;
  const base = Math.max(tat ?? now, now);
  const wait = base + (cost - 1) * t - tau - now;
  const allowed = wait <= 0 || wait <= maxWaitMs;
  const stored = allowed ? base + cost * t : base;
  return {
    allowed,
    waitMs: allowed ? Math.max(0, wait) : 0,
    retryAfterMs: allowed ? 0 : wait,
    tat: stored,
    remaining: gcraRemaining(stored, now, p),
    resetAt: stored,
  };
}

/** Acquisitions of cost 1 admissible right now given `tat`. */
export function gcraRemaining(tat: number, now: number, p: GcraParams): number {
  const t = p.intervalMs;
  const free = Math.floor((now + p.burst * t - Math.max(tat, now)) / t + EPSILON);
  return Math.min(p.burst, Math.max(0, free));
}
