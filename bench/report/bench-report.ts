import type { Machine } from '../machine';
import type { BenchRow, BenchSuite, GoalCheck } from '../suite';

/** One suite's outcome in a run. */
export interface SuiteResult {
  readonly name: string;
  readonly description: string;
  readonly status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  readonly reason?: string;
  readonly seconds: number;
  readonly rows: BenchRow[];
  readonly goals: GoalCheck[];
  /** See {@link BenchSuite.compareBy}. */
  readonly compareBy?: BenchSuite['compareBy'];
}

/** Everything a run produced: written as latest.json, rendered as latest.md and the chart. */
export interface BenchReport {
  readonly startedAt: string;
  readonly seconds: number;
  /** The command line, as a user would retype it. */
  readonly command: string;
  readonly machine: Machine;
  /** The commit measured; `libDirty` when lib/ had uncommitted changes. Absent in older reports. */
  readonly code?: { readonly commit: string; readonly libDirty: boolean };
  /** 1-minute load average when the run started and when it ended (above the core count: other work competed). */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly options: { rounds: number; durationMs: number; httpDurationMs: number; smoke: boolean };
  readonly suites: SuiteResult[];
}

/** A contender is ours when its name starts with this; every other contender is a peer or a baseline. */
export const OURS = 'rate-sync';

export function isOurs(row: BenchRow): boolean {
  return row.contender.startsWith(OURS);
}
