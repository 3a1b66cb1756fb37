/** The contract between the bench runner and each suite (bench/suites/*.suite.ts). */
export interface BenchOptions {
  /** Measured milliseconds per case per round. */
  readonly durationMs: number;
  /** Rounds per case; the report quotes the median. */
  readonly rounds: number;
  /** Tiny run for CI: the harness must not rot, numbers mean nothing. */
  readonly smoke: boolean;
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
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  /** Resolves to false (with a reason) when a server it needs is not reachable. */
  available?(): Promise<true | string>;
  run(options: BenchOptions): Promise<BenchRow[]>;
}
