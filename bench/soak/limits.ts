/**
 * What the soak runs: the limiters of each store (limits well below the traffic, so that
 * every bound is reached and tested), the messages between the soak and its
 * workers, and the latency histogram (fixed size, so it cannot grow over a long run).
 */
import type { LimiterOptions } from '../../lib/core';

export const ENGINES = ['redis', 'postgres'] as const;
export type EngineKind = (typeof ENGINES)[number];

/** Longest wait of the waiting calls, in seconds (the bounds add it to the span). */
export const MAX_WAIT_S = 0.3;

/** The limiters of one store. Every one is fail_closed: an outage admits nothing. */
export function limitersOf(engine: EngineKind): Record<string, LimiterOptions> {
  return {
    [`${engine}_tb`]: { store: engine, ratePerSecond: 40, burst: 10, failClosed: true },
    [`${engine}_sw`]: {
      store: engine,
      algorithm: 'sliding_window',
      limit: 50,
      windowSeconds: 1,
      failClosed: true,
    },
    [`${engine}_cc`]: { store: engine, maxConcurrent: 4, leaseSeconds: 5, failClosed: true },
    // Per-identifier traffic over many keys: state and caches that must not pile up.
    [`${engine}_ids`]: { store: engine, ratePerSecond: 2, burst: 3, failClosed: true },
  };
}

/** Monotonic milliseconds, the same clock in every process of the machine (CLOCK_MONOTONIC). */
export function mono(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Units admitted, calls, and the span of the decisions of one limiter in one worker. */
export interface LimiterTally {
  units: number;
  /** Units admitted after the soak said the stores were back. */
  unitsAfterRestart: number;
  calls: number;
  admitted: number;
  rejected: number;
  /** fail_closed rejections while the store was unreachable. */
  unavailable: number;
  /** Any other error (a bug): name and message of the first few. */
  errors: number;
  first: number;
  last: number;
}

export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
}

export type WorkerMessage =
  | { type: 'ready'; memory: MemorySample }
  | {
      type: 'minute';
      minute: number;
      /** Histogram of decision latencies per engine. */
      latency: Record<EngineKind, number[]>;
      memory: MemorySample;
    }
  /** Hold intervals [start, end, start, end...] of concurrency permits, per limiter id. */
  | { type: 'holds'; holds: Record<string, number[]> }
  | {
      type: 'done';
      tallies: Record<string, LimiterTally>;
      memory: MemorySample;
      /** Left 100 ms after close() resolved. */
      handles: string[];
      /** Left the moment close() resolved. */
      handlesAtClose: string[];
      firstErrors: string[];
      /** Warnings and errors the library logged (store outages). */
      logged: number;
    };

export type ParentMessage =
  { type: 'start'; t0: number } | { type: 'restarted' } | { type: 'stop' };

/** Histogram buckets: 10 µs * 1.05^i, i < 300 (up to about 22 s). */
const BASE_MS = 0.01;
const RATIO = 1.05;
export const BUCKETS = 300;

export function bucketOf(ms: number): number {
  if (ms <= BASE_MS) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BASE_MS) / Math.log(RATIO)));
}

/** The value (bucket's upper edge, within 5 %) below which `q` of the samples lie. */
export function quantile(hist: readonly number[], q: number): number | undefined {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= q * total) return BASE_MS * RATIO ** i;
  }
  return BASE_MS * RATIO ** (hist.length - 1);
}

/** Memory after a full collection when `--expose-gc` is on. */
export function memoryNow(): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}
