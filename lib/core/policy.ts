import type { LimiterOptions } from './options';

/**
 * What an engine needs to know of a limiter, in milliseconds. Built once per limiter from its
 * validated {@link LimiterOptions} by {@link toPolicy}.
 */
export interface LimiterPolicy {
  readonly id: string;
  /** GCRA token bucket: emission interval `T = 1000 / rate_per_second` ms, and burst. */
  readonly gcra?: { readonly intervalMs: number; readonly burst: number };
  /** Exact sliding window log. */
  readonly window?: { readonly limit: number; readonly windowMs: number };
  /** Concurrency leases. */
  readonly concurrency?: { readonly max: number; readonly leaseMs: number };
}

/** Default lease lifetime in seconds. */
export const DEFAULT_LEASE_SECONDS = 60;

/** Builds the engine-facing policy of a validated limiter. */
export function toPolicy(id: string, o: LimiterOptions): LimiterPolicy {
  const algorithm = o.algorithm ?? 'token_bucket';
  return {
    id,
    gcra:
      algorithm === 'token_bucket' && o.ratePerSecond !== undefined
        ? { intervalMs: 1000 / o.ratePerSecond, burst: o.burst ?? 1 }
        : undefined,
    window:
      algorithm === 'sliding_window'
        ? { limit: o.limit as number, windowMs: (o.windowSeconds as number) * 1000 }
        : undefined,
    concurrency:
      o.maxConcurrent !== undefined
        ? { max: o.maxConcurrent, leaseMs: (o.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000 }
        : undefined,
  };
}

/** The capacity reported as `limit`: burst, window limit, else max concurrent. */
export function policyLimit(p: LimiterPolicy): number {
  return p.gcra?.burst ?? p.window?.limit ?? p.concurrency?.max ?? 0;
}

/**
 * The largest cost one acquisition can ever be admitted with: the burst, the window's limit,
 * else 1: a concurrency-only limiter takes one slot per acquisition (slots are not weighted; a
 * larger cost would be silently ignored, so it is refused).
 */
export function maxCost(p: LimiterPolicy): number {
  return p.gcra?.burst ?? p.window?.limit ?? 1;
}
