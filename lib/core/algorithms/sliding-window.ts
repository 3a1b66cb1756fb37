/**
 * Exact sliding window log (DESIGN 3.4) as a pure function.
 *
 * State is the ascending list of admission times (epoch ms), possibly future-dated by
 * reservations. A request of `cost` is admitted now when fewer than `limit - cost + 1`
 * entries are newer than `now - window`. Otherwise the earliest instant keeping every window
 * within the limit is `t = e[n - limit + cost] + window` (1-based); within `maxWaitMs` the
 * entries are recorded at `t` and the caller sleeps until then. Rejections record nothing.
 */
export interface WindowParams {
  readonly limit: number;
  readonly windowMs: number;
}

export interface WindowOutcome {
  readonly allowed: boolean;
  readonly waitMs: number;
  readonly retryAfterMs: number;
  /** The live entries to store, ascending (expired ones dropped). */
  readonly entries: number[];
  readonly remaining: number;
  /** Epoch ms when the log is empty again. */
  readonly resetAt: number;
}

export function slidingWindow(
  entries: readonly number[],
  now: number,
  p: WindowParams,
  cost: number,
  maxWaitMs: number,
): WindowOutcome {
  const live = entries.filter((e) => e > now - p.windowMs);
  // A cost above the limit can never be admitted (callers validate it first).
  if (cost > p.limit) return outcome(false, 0, Number.POSITIVE_INFINITY, live, now, p);
  const n = live.length;
  let at = now;
  if (n + cost > p.limit) {
    at = live[n - p.limit + cost - 1] + p.windowMs;
    const wait = at - now;
    if (wait > maxWaitMs) return outcome(false, 0, wait, live, now, p);
  }
  const next = live.concat(new Array<number>(cost).fill(at)).sort((a, b) => a - b);
  return outcome(true, at - now, 0, next, now, p);
}

function outcome(
  allowed: boolean,
  waitMs: number,
  retryAfterMs: number,
  entries: number[],
  now: number,
  p: WindowParams,
): WindowOutcome {
  return {
    allowed,
    waitMs,
    retryAfterMs,
    entries,
    remaining: Math.max(0, p.limit - entries.length),
    resetAt: entries.length ? entries[entries.length - 1] + p.windowMs : now,
  };
}

/** Admissions of cost 1 possible right now given the log. */
export function windowRemaining(entries: readonly number[], now: number, p: WindowParams): number {
  let live = 0;
  for (const e of entries) if (e > now - p.windowMs) live++;
  return Math.max(0, p.limit - live);
}
