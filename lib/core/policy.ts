import { escapeKeyPart } from './keys';
import type { LimiterOptions } from './options';

/**
 * What an engine needs to know of a limiter, in milliseconds. Built once per limiter from its
 * validated {@link LimiterOptions} by {@link toPolicy}.
 */
export interface LimiterPolicy {
  readonly id: string;
  /**
   * The escaped limiter id: the storage key of the global bucket, and the part before the
   * first `:` of every per-identifier storage key (see `storageKey()`).
   */
  readonly keyPrefix: string;
  /**
   * The period the policy is expressed over, in whole seconds (`RateLimit-Policy`'s `w`): the
   * sliding window, or the time a token bucket takes to refill its burst; undefined for a pure
   * concurrency limiter.
   */
  readonly periodSeconds?: number;
  /** GCRA token bucket: emission interval `T = 1000 / rate_per_second` ms, and burst. */
  readonly gcra?: { readonly intervalMs: number; readonly burst: number };
  /** Exact sliding window log. */
  readonly window?: { readonly limit: number; readonly windowMs: number };
  /**
   * Milliseconds a key stays rejected after a rejection for its rate (`block_seconds`);
   * undefined: no block.
   */
  readonly blockMs?: number;
  /** Concurrency leases. */
  readonly concurrency?: {
    readonly max: number;
    readonly leaseMs: number;
    /** Longest a permit may be held before its slot is taken back (Infinity: no bound). */
    readonly maxHoldMs: number;
  };
}

/** Default lease lifetime in seconds. */
export const DEFAULT_LEASE_SECONDS = 60;

/** Builds the engine-facing policy of a validated limiter. */
export function toPolicy(id: string, o: LimiterOptions): LimiterPolicy {
  const algorithm = o.algorithm ?? 'token_bucket';
  return {
    id,
    keyPrefix: escapeKeyPart(id),
    periodSeconds: periodSeconds(algorithm, o),
    gcra:
      algorithm === 'token_bucket' && o.ratePerSecond !== undefined
        ? { intervalMs: 1000 / o.ratePerSecond, burst: o.burst ?? 1 }
        : undefined,
    window:
      algorithm === 'sliding_window'
        ? { limit: o.limit as number, windowMs: (o.windowSeconds as number) * 1000 }
        : undefined,
    blockMs: o.blockSeconds ? o.blockSeconds * 1000 : undefined,
    concurrency:
      o.maxConcurrent !== undefined
        ? {
            max: o.maxConcurrent,
            leaseMs: (o.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000,
            maxHoldMs: (o.maxHoldSeconds ?? Infinity) * 1000,
          }
        : undefined,
  };
}

function periodSeconds(algorithm: string, o: LimiterOptions): number | undefined {
  if (algorithm === 'sliding_window') return Math.ceil(o.windowSeconds as number);
  if (o.ratePerSecond) return Math.max(1, Math.ceil((o.burst ?? 1) / o.ratePerSecond));
  return undefined;
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
