/**
 * Exact sliding window log (DESIGN 3.4) as a pure function.
 *
 * State is the list of admissions, ascending by time (epoch ms, possibly future-dated by
 * reservations), each with its weight: an acquisition of `cost` is ONE entry of weight `cost`,
 * so a decision's work does not grow with its cost. Let `n` be the total weight of the entries
 * newer than `now - window`. A request of `cost` is admitted now when `n + cost <= limit`.
 * Otherwise the earliest instant keeping every window within the limit is `t = e + window`,
 * where `e` is the time of the earliest entry such that the weight of the entries up to and
 * including it reaches `n - limit + cost` (exactly the `(n - limit + cost)`-th unit if every
 * entry were recorded unit by unit). Within `maxWaitMs` the entry is recorded at `t` and the
 * caller sleeps until then. Rejections record nothing.
 */
export interface WindowParams {
  readonly limit: number;
  readonly windowMs: number;
}

/** One admission: its time (epoch ms) and its weight (the cost it was admitted with, >= 1). */
export interface WindowEntry {
  readonly at: number;
  readonly weight: number;
}

export interface WindowOutcome {
  readonly allowed: boolean;
  readonly waitMs: number;
  readonly retryAfterMs: number;
  /**
   * The live entries to store, ascending (expired ones dropped): a new array when admitted;
   * when rejected, possibly the array passed in (never to be stored or changed).
   */
  readonly entries: readonly WindowEntry[];
  readonly remaining: number;
  /** Epoch ms when the log is empty again. */
  readonly resetAt: number;
  /** When allowed: the time of the entry recorded (epoch ms; in the future for a reservation). */
  readonly at?: number;
}

export function slidingWindow(
  entries: readonly WindowEntry[],
  now: number,
  p: WindowParams,
  cost: number,
  maxWaitMs: number,
): WindowOutcome {
  const live = liveEntries(entries, now - p.windowMs);
  const n = totalWeight(live);
  // A cost above the limit can never be admitted (callers validate it first).
  if (cost > p.limit) return outcome(false, 0, Number.POSITIVE_INFINITY, live, n, now, p);
  let at = now;
  if (n + cost > p.limit) {
    at = earliestEntryReaching(live, n - p.limit + cost) + p.windowMs;
    const wait = at - now;
    if (wait > maxWaitMs) return outcome(false, 0, wait, live, n, now, p);
  }
  // After every entry at or before `at`: the order a stable sort by time would give.
  let i = live.length;
  while (i > 0 && live[i - 1].at > at) i--;
  // A new array of exactly the entries' length: `entries` belongs to the caller (and `live` may
  // be it), and the log is kept as is for every key, so growing a copy with push or splice
  // (which reserves room for about 16 more entries) would triple a key's heap.
  const next = new Array<WindowEntry>(live.length + 1);
  for (let j = 0; j < i; j++) next[j] = live[j];
  next[i] = { at, weight: cost };
  for (let j = i; j < live.length; j++) next[j + 1] = live[j];
  return outcome(true, at - now, 0, next, n + cost, now, p, at);
}

/**
 * The entries newer than `after`: a suffix of the ascending log, so the log itself when its
 * oldest entry is live (no copy on the common path, a rejection copies nothing).
 */
function liveEntries(entries: readonly WindowEntry[], after: number): readonly WindowEntry[] {
  let k = 0;
  while (k < entries.length && entries[k].at <= after) k++;
  return k === 0 ? entries : entries.slice(k);
}

/** The time of the first entry at which the running weight reaches `units`. */
function earliestEntryReaching(live: readonly WindowEntry[], units: number): number {
  let sum = 0;
  for (const e of live) {
    sum += e.weight;
    if (sum >= units) return e.at;
  }
  return Number.POSITIVE_INFINITY;
}

function totalWeight(entries: readonly WindowEntry[]): number {
  let sum = 0;
  for (const e of entries) sum += e.weight;
  return sum;
}

function outcome(
  allowed: boolean,
  waitMs: number,
  retryAfterMs: number,
  entries: readonly WindowEntry[],
  used: number,
  now: number,
  p: WindowParams,
  at?: number,
): WindowOutcome {
  return {
    allowed,
    waitMs,
    retryAfterMs,
    entries,
    remaining: Math.max(0, p.limit - used),
    resetAt: entries.length ? entries[entries.length - 1].at + p.windowMs : now,
    at,
  };
}

/** Admissions of cost 1 possible right now given the log. */
export function windowRemaining(
  entries: readonly WindowEntry[],
  now: number,
  p: WindowParams,
): number {
  let live = 0;
  for (const e of entries) if (e.at > now - p.windowMs) live += e.weight;
  return Math.max(0, p.limit - live);
}
