import type { GcraParams } from './gcra';
import type { WindowLog } from './sliding-window';

/**
 * Refunds (giving back what one admission took), as pure functions: the reference the Redis
 * and PostgreSQL refunds mirror.
 *
 * Token bucket: an admission of `cost` advanced `tat` by `cost * T`. The refund moves it back
 * by as much, but never before `now`: a `tat` at or before `now` is already a full bucket, so
 * a refund gives back at most what the admission took and never more than a full bucket. GCRA
 * admits only while `tat <= now + tau + T`, and every admission adds its `cost * T` to a
 * `tat` that never falls below `now`; so over any interval of length `d` the admissions stay
 * within `burst + d / T` plus the units refunded in it. Refunding an admission whose units the
 * bucket already regained (its `tat` lies in the past) changes nothing.
 */
export function gcraRefund(
  tat: number | undefined,
  now: number,
  p: GcraParams,
  cost: number,
): number | undefined {
  if (tat === undefined) return undefined;
  return Math.max(tat - cost * p.intervalMs, now);
}

/**
 * Sliding window: removes the first entry recorded at `at` with weight `cost` (the one the
 * admission recorded; entries with the same time and weight are interchangeable for every
 * later decision). Returns the log unchanged (the same array) when there is none: it expired,
 * or the key was reset.
 */
export function windowRefund(log: WindowLog, at: number, cost: number): WindowLog {
  for (let j = 0; j < log.length; j += 2) {
    if (log[j] === at && log[j + 1] === cost) return log.slice(0, j).concat(log.slice(j + 2));
  }
  return log;
}
