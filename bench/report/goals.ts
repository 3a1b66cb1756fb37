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
