/**
 * Exact sliding window log (DESIGN 3.4) as a pure function.
 *
 * State is the log of admissions ({@link WindowLog}), ascending by time (epoch ms, possibly
 * future-dated by reservations), each with its weight: an acquisition of `cost` is ONE entry
 * of weight `cost`, so a decision's work does not grow with its cost. Let `n` be the total
 * weight of the entries newer than `now - window`. A request of `cost` is admitted now when
 * `n + cost <= limit`. Otherwise the earliest instant keeping every window within the limit
 * is `t = e + window`, where `e` is the time of the earliest entry such that the weight of
 * the entries up to and including it reaches `n - limit + cost` (exactly the
 * `(n - limit + cost)`-th unit if every entry were recorded unit by unit). Within `maxWaitMs`
 * the entry is recorded at `t` and the caller sleeps until then. Rejections record nothing.
 */
export interface WindowParams {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * A window log: its entries as flat pairs `[at0, weight0, at1, weight1, ...]`, ascending by
 * time. `at` is an admission's time (epoch ms), `weight` the cost it was admitted with (>= 1).
 * Flat numbers rather than an object per entry: V8 stores them unboxed in one block (8 bytes
 * a number, none per entry), and reading the log follows no pointer per entry.
 */
export type WindowLog = readonly number[];

/** An empty log, shared (logs are never changed in place). */
export const EMPTY_WINDOW_LOG: WindowLog = [];

export interface WindowOutcome {
  readonly allowed: boolean;
  readonly waitMs: number;
  readonly retryAfterMs: number;
  /**
   * The live log to store (expired entries dropped): a new array when admitted; when rejected,
   * possibly the array passed in (never to be stored or changed).
   */
  readonly entries: WindowLog;
  readonly remaining: number;
  /** Epoch ms when the log is empty again. */
  readonly resetAt: number;
  /** When allowed: the time of the entry recorded (epoch ms; in the future for a reservation). */
  readonly at?: number;
}

export function slidingWindow(
  log: WindowLog,
  now: number,
  p: WindowParams,
  cost: number,
  maxWaitMs: number,
): WindowOutcome {
  const first = firstLive(log, now - p.windowMs);
  const n = weightFrom(log, first);
  // A cost above the limit can never be admitted (callers validate it first).
  if (cost > p.limit) {
    return outcome(false, 0, Number.POSITIVE_INFINITY, liveOnly(log, first), n, now, p);
  }
  let at = now;
  if (n + cost > p.limit) {
    at = earliestEntryReaching(log, first, n - p.limit + cost) + p.windowMs;
    const wait = at - now;
    if (wait > maxWaitMs) return outcome(false, 0, wait, liveOnly(log, first), n, now, p);
  }
  // After every entry at or before `at`: the order a stable sort by time would give.
  let i = log.length;
  while (i > first && log[i - 2] > at) i -= 2;
  const next = newLog(log.length - first + 2);
  let k = 0;
  for (let j = first; j < i; j++) next[k++] = log[j];
  next[k++] = at;
  next[k++] = cost;
  for (let j = i; j < log.length; j++) next[k++] = log[j];
  return outcome(true, at - now, 0, next, n + cost, now, p, at);
}

/**
 * A log of `length` numbers, exactly that long: the log is kept as is for every key, so room
 * reserved for growth (push, splice) would be paid per key. Its elements are set to doubles
 * by the caller, which V8 stores unboxed.
 */
function newLog(length: number): number[] {
  return new Array<number>(length);
}

/** Index (in the flat log) of the first entry newer than `after`: the live ones follow it. */
function firstLive(log: WindowLog, after: number): number {
  let k = 0;
  while (k < log.length && log[k] <= after) k += 2;
  return k;
}

/** The live entries: the log itself when its oldest entry is live (a rejection copies nothing). */
function liveOnly(log: WindowLog, first: number): WindowLog {
  return first === 0 ? log : log.slice(first);
}

/** The time of the first entry from `first` at which the running weight reaches `units`. */
function earliestEntryReaching(log: WindowLog, first: number, units: number): number {
  let sum = 0;
  for (let j = first; j < log.length; j += 2) {
    sum += log[j + 1];
    if (sum >= units) return log[j];
  }
  return Number.POSITIVE_INFINITY;
}

function weightFrom(log: WindowLog, first: number): number {
  let sum = 0;
  for (let j = first + 1; j < log.length; j += 2) sum += log[j];
  return sum;
}

/** The time of the log's last (latest) entry, undefined when it is empty. */
export function lastEntryAt(log: WindowLog): number | undefined {
  return log.length === 0 ? undefined : log[log.length - 2];
}

function outcome(
  allowed: boolean,
  waitMs: number,
  retryAfterMs: number,
  entries: WindowLog,
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
    resetAt: entries.length ? entries[entries.length - 2] + p.windowMs : now,
    at,
  };
}

/** Admissions of cost 1 possible right now given the log. */
export function windowRemaining(log: WindowLog, now: number, p: WindowParams): number {
  let live = 0;
  for (let j = 0; j < log.length; j += 2) if (log[j] > now - p.windowMs) live += log[j + 1];
  return Math.max(0, p.limit - live);
}
