import type { Limiter } from './limiter';
import type { AlgorithmName, EngineName } from './options';

/** A limiter's settings as `list()` shows them. No secret: no URL, no password. */
export interface LimiterInfo {
  readonly id: string;
  readonly store: string;
  readonly engine: EngineName;
  readonly algorithm: AlgorithmName | 'concurrency';
  readonly ratePerSecond?: number;
  readonly burst?: number;
  readonly limit?: number;
  readonly windowSeconds?: number;
  readonly maxConcurrent?: number;
  readonly leaseSeconds?: number;
  readonly maxHoldSeconds?: number;
  readonly timeout?: number;
  readonly failClosed: boolean;
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
    timeout: o.timeout,
    failClosed: o.failClosed ?? false,
    enforce: l.enforced,
  };
}
