/** The contract between the bench runner and each suite (bench/suites/*.suite.ts). */
export interface BenchOptions {
  /** Measured milliseconds per case per round. */
  readonly durationMs: number;
  /** Rounds per case; the report quotes the median. */
  readonly rounds: number;
  /** Tiny run for CI: the harness must not rot, numbers mean nothing. */
  readonly smoke: boolean;
  /**
   * Measured milliseconds per HTTP load run (autocannon), which needs longer runs than an
   * in-process loop. Suites without HTTP ignore it. @default 5000 (300 in smoke runs)
   */
  readonly httpDurationMs?: number;
  /** Only the cases whose name contains this text (`--case`). @default every case */
  readonly caseFilter?: string;
  /** Progress lines (written to stderr by the runner). @default no output */
  readonly progress?: (line: string) => void;
}

/** One measured line: a contender on a case. */
export interface BenchRow {
  readonly suite: string;
  /** e.g. "token bucket, one hot key". */
  readonly case: string;
  /** e.g. "rate-sync", "rate-limiter-flexible RateLimiterRedis", "raw ioredis EVALSHA". */
  readonly contender: string;
  /** Acquisitions (or requests) in flight. */
  readonly concurrency: number;
  /** Median over rounds. */
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Anything else worth printing (commands per admission, heap bytes per key, ...). */
  readonly extra?: Record<string, number | string>;
  /** ops/s of each round, in order (the raw numbers behind the median). */
  readonly rounds?: readonly number[];
}

/** A target the issue sets, checked against a run's rows. */
export interface GoalCheck {
  /** e.g. "token bucket, one key, 1 in flight: >= 2x rate-limiter-flexible". */
  readonly goal: string;
  readonly met: boolean;
  /** The numbers behind the verdict, e.g. "2.41x (7.2M vs 3.0M ops/s)". */
  readonly detail: string;
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  /** Resolves to true, or to the reason it cannot run (e.g. the server it needs is not reachable). */
  available?(): Promise<true | string>;
  run(options: BenchOptions): Promise<BenchRow[]>;
  /**
   * What the ratio table compares: by default ops/s (higher is better); a suite whose point is
   * another number names its `extra` key (e.g. heap bytes per key, lower is better).
   */
  readonly compareBy?: { readonly extra: string; readonly lowerIsBetter: boolean };
  /** The issue's goals for this suite, judged on the rows `run` returned. */
  goals?(rows: readonly BenchRow[]): GoalCheck[];
}
