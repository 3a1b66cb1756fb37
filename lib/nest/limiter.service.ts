import { Injectable } from '@nestjs/common';
import {
  RateSync,
  toPrometheus,
  type AcquireOptions,
  type CheckAllOptions,
  type CompositeResult,
  type LimiterInfo,
  type LimiterMetrics,
  type LimiterOptions,
  type LimiterState,
  type Permit,
  type RateLimitResult,
  type StoreHealth,
} from '../core';

export type { StoreHealth };

/**
 * The programmatic API, injectable anywhere once `RateSyncModule` is imported. Every method
 * delegates to the application's rate-sync runtime (one per application). Timeouts are in seconds.
 */
@Injectable()
export class LimiterService {
  /** @internal Nest creates it: inject `LimiterService`, do not construct it. */
  constructor(private readonly rateSync: RateSync) {}

  /**
   * Waits up to the timeout (the option, else the limiter's `timeout`, else without bound).
   * @throws RateLimitExceededError (carrying the result) when the wait would exceed it
   * @throws StoreUnavailableError when a fail_closed limiter's store cannot decide
   */
  acquire(limiterId: string, options?: AcquireOptions): Promise<Permit> {
    return this.rateSync.acquire(limiterId, options);
  }

  /** Like {@link LimiterService.acquire}, but does not wait unless `timeout` is given; null when rejected. */
  tryAcquire(limiterId: string, options?: AcquireOptions): Promise<Permit | null> {
    return this.rateSync.tryAcquire(limiterId, options);
  }

  /** Acquires, runs `fn`, and releases (also when `fn` throws). */
  run<T>(limiterId: string, fn: () => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return this.rateSync.run(limiterId, fn, options);
  }

  /**
   * One decision without waiting (unless `timeout` is given). `consume: false` decides without
   * consuming; a concurrency slot taken by an allowed check is released at once.
   */
  check(
    limiterId: string,
    options?: AcquireOptions & { consume?: boolean },
  ): Promise<RateLimitResult> {
    return this.rateSync.check(limiterId, options);
  }

  /**
   * A composite decision over several limiters, without waiting unless `timeout` is given:
   * nothing is consumed unless every layer allows (by default). Each layer counts its own
   * identifier from `keys` (by limiter id), else `key`.
   */
  checkAll(limiterIds: readonly string[], options?: CheckAllOptions): Promise<CompositeResult> {
    return this.rateSync.checkAll(limiterIds, options);
  }

  /** Reads a key's state (omitted key: the shared bucket) without consuming anything. */
  state(limiterId: string, key?: string): Promise<LimiterState> {
    return this.rateSync.state(limiterId, key);
  }

  /** Frees one key (or every key) of a limiter; permits held on it become no-ops. */
  reset(limiterId: string, key?: string): Promise<void> {
    return this.rateSync.reset(limiterId, key);
  }

  /** Registers `newId` with the settings of `sourceId` and the given overrides (validated). */
  clone(sourceId: string, newId: string, overrides?: Partial<LimiterOptions>): void {
    this.rateSync.clone(sourceId, newId, overrides);
  }

  /**
   * The limiter `${baseId}:${uniqueId}` (the unique id escaped like an identifier), cloned from
   * `baseId` with `overrides` on first use (bounded LRU), as a read-only view of its settings.
   * Use its `id` with the other methods. Given other overrides later (a customer's new contract
   * rate), the clone is rebuilt with them; its counts carry over.
   * @throws ConfigValidationError naming a bad override (the clone is left as it was)
   */
  getOrClone(
    baseId: string,
    uniqueId: string,
    overrides?: Partial<LimiterOptions>,
  ): Promise<LimiterInfo> {
    return this.rateSync.getOrClone(baseId, uniqueId, overrides);
  }

  /** Whether a limiter id is configured. */
  has(limiterId: string): boolean {
    return this.rateSync.has(limiterId);
  }

  /** Every limiter's settings. Contains no secret. */
  list(): LimiterInfo[] {
    return this.rateSync.list();
  }

  /** One limiter's counters in this process. */
  metrics(limiterId: string): LimiterMetrics {
    return this.rateSync.metrics(limiterId);
  }

  /** Every limiter's counters in the Prometheus text format (serve it as `text/plain; version=0.0.4`). */
  prometheus(): string {
    return toPrometheus(this.rateSync.allMetrics());
  }

  /**
   * Per store: whether it answers a probe (PING, `SELECT 1`) at most a second old, and its
   * circuit breaker's state. Probes run on demand, at most once a second per store, so a
   * readiness endpoint may call this as often as it likes.
   */
  health(): Promise<StoreHealth[]> {
    return this.rateSync.health();
  }
}
