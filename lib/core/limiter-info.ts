import type { Limiter } from './limiter';
import {
  storeFailurePolicy,
  type AlgorithmName,
  type EngineName,
  type StoreFailurePolicy,
} from './options';

/** A limiter's settings as `list()` shows them. No secret: no URL, no password. */
export interface LimiterInfo {
  /** The limiter id (for a clone, `${baseId}:${uniqueId}`). */
  readonly id: string;
  /** The store id. */
  readonly store: string;
  /** The store's engine. */
  readonly engine: EngineName;
  /** The rate algorithm, or `'concurrency'` for a limiter with `maxConcurrent` only. */
  readonly algorithm: AlgorithmName | 'concurrency';
  /** token_bucket: admissions per second. */
  readonly ratePerSecond?: number;
  /** token_bucket: admissions allowed back to back after idle time. */
  readonly burst?: number;
  /** sliding_window: admissions per window. */
  readonly limit?: number;
  /** sliding_window: window length in seconds. */
  readonly windowSeconds?: number;
  /** Concurrent holders allowed. */
  readonly maxConcurrent?: number;
  /** Seconds a concurrency lease lives unless renewed. */
  readonly leaseSeconds?: number;
  /** Seconds a concurrency permit may be held before its slot is taken back, when configured. */
  readonly maxHoldSeconds?: number;
  /** Seconds a key stays rejected after a rejection for its rate, when configured. */
  readonly blockSeconds?: number;
  /** Default seconds an acquisition may wait, when configured. */
  readonly timeout?: number;
  /** Whether a store failure rejects (true) or not (false): `onStoreFailure === 'closed'`. */
  readonly failClosed: boolean;
  /** What a store failure does: `open` admits, `closed` rejects, `local` limits in this process. */
  readonly onStoreFailure: StoreFailurePolicy;
  /** False in shadow mode: rejections are counted and logged, and the call proceeds. */
  readonly enforce: boolean;
}

export function describeLimiter(l: Limiter): LimiterInfo {
  const o = l.options;
  const p = l.policy;
  return {
    id: l.id,
    store: o.store,
    engine: l.store.options.engine,
    algorithm: p.window ? 'sliding_window' : p.gcra ? 'token_bucket' : 'concurrency',
    ratePerSecond: o.ratePerSecond,
    burst: p.gcra?.burst,
    limit: o.limit,
    windowSeconds: o.windowSeconds,
    maxConcurrent: o.maxConcurrent,
    leaseSeconds: p.concurrency ? p.concurrency.leaseMs / 1000 : undefined,
    maxHoldSeconds: o.maxHoldSeconds,
    blockSeconds: o.blockSeconds,
    timeout: o.timeout,
    failClosed: storeFailurePolicy(o) === 'closed',
    onStoreFailure: storeFailurePolicy(o),
    enforce: l.enforced,
  };
}
