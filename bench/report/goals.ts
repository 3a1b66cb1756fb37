import { formatRate } from '../rounds';
import type { BenchRow, GoalCheck } from '../suite';

/** The row matching every given field, if any. */
export function find(
  rows: readonly BenchRow[],
  where: Partial<Pick<BenchRow, 'case' | 'contender' | 'concurrency'>>,
): BenchRow | undefined {
  return rows.find(
    (r) =>
      (where.case === undefined || r.case === where.case) &&
      (where.contender === undefined || r.contender === where.contender) &&
      (where.concurrency === undefined || r.concurrency === where.concurrency),
  );
}

/** Met when `ours.opsPerSec >= min * peer.opsPerSec`. */
export function ratioGoal(
  goal: string,
  ours: BenchRow | undefined,
  peer: BenchRow | undefined,
  min: number,
): GoalCheck {
  if (!ours || !peer || peer.opsPerSec === 0) return { goal, met: false, detail: 'not measured' };
  const ratio = ours.opsPerSec / peer.opsPerSec;
  return {
    goal,
    met: ratio >= min,
    detail: `${ratio.toFixed(2)}x (${formatRate(ours.opsPerSec)} vs ${formatRate(peer.opsPerSec)} ops/s)`,
  };
}

/** A numeric `extra` of a row (NaN when absent). */
export function extraOf(row: BenchRow | undefined, key: string): number {
  const v = row?.extra?.[key];
  return typeof v === 'number' ? v : NaN;
}

/**
 * Met when `ours`'s `extra[key]` (a cost: CPU µs, lower is better) is at most `max` times the
 * peer's, plus `slack`. Both numbers are quoted.
 */
export function costGoal(
  goal: string,
  key: string,
  ours: BenchRow | undefined,
  peer: BenchRow | undefined,
  limit: { readonly max?: number; readonly slack?: number },
): GoalCheck {
  const a = extraOf(ours, key);
  const b = extraOf(peer, key);
  // A cost of 0 means nothing was measured (no request, no call), not a free one.
  if (!(a > 0) || !(b > 0)) {
    return { goal, met: false, detail: 'not measured' };
  }
  const bound = b * (limit.max ?? 1) + (limit.slack ?? 0);
  return {
    goal,
    met: a <= bound,
    detail: `${fmt(a)} vs ${fmt(b)} ${key} (${(a / b).toFixed(2)}x, ${a - b >= 0 ? '+' : ''}${fmt(a - b)})`,
  };
}

function fmt(n: number): string {
  return Number(n.toPrecision(3)).toLocaleString('en-US');
}
