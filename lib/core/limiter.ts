import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { InvalidArgumentError } from './errors';
import { escapeKeyPart } from './keys';
import { MetricsRecorder } from './metrics/limiter-metrics';
import type { LimiterOptions } from './options';
import { maxCost, policyLimit, toPolicy, type LimiterPolicy } from './policy';
import type { RateLimitResult } from './result';
import type { StoreHandle } from './store-handle';

/** Bound of the per-limiter cache of keys known to be rejected until a given time. */
const MAX_BLOCKED_KEYS = 10_000;

/**
 * A named policy bound to a store. Holds no per-key objects beyond the bounded cache of
 * certain rejections; identifiers are data passed to the store.
 */
export class Limiter {
  readonly policy: LimiterPolicy;
  readonly metrics: MetricsRecorder;
  /** Held leases: lease id -> storage key, renewed every lease/3 while held. */
  private readonly held = new Map<string, string>();
  private renewTimer?: NodeJS.Timeout;
  /** storage key -> local epoch ms before which a cost-1 acquisition is certainly rejected. */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly options: Readonly<LimiterOptions>,
    readonly store: StoreHandle,
    private readonly clock: Clock,
  ) {
    this.policy = toPolicy(id, options);
    this.idPart = escapeKeyPart(id);
    this.maxCost = maxCost(this.policy);
    this.metrics = new MetricsRecorder(id);
  }

  /** The storage key of an identifier ('' or undefined: the global bucket). */
  keyOf(identifier: string | undefined): string {
    return identifier === undefined || identifier === ''
      ? this.idPart
      : `${this.idPart}:${escapeKeyPart(identifier)}`;
  }

  /** The escaped limiter id, computed once. */
  private readonly idPart: string;
  /** The largest cost this policy can ever admit. */
  private readonly maxCost: number;

  /** Checks a cost against what this policy can ever admit. */
  validateCost(cost: number): void {
    if (cost === 1) return;
    if (!Number.isInteger(cost) || cost < 1) {
      throw new InvalidArgumentError('cost', `expected an integer >= 1, got ${String(cost)}`);
    }
    const max = this.maxCost;
    if (cost > max) {
      throw new InvalidArgumentError(
        'cost',
        `${cost} exceeds what limiter '${this.id}' can ever admit (${max}); lower the cost or raise burst/limit`,
      );
    }
  }

  /**
   * Decides a single-layer call that may not wait, without a promise chain, when that is
   * possible: a known certain rejection (shared engines), or an in-process engine and a policy
   * without leases. Returns undefined otherwise (the caller takes the general path). Counts
   * the call in the metrics when it decides.
   */
  decideNow(
    identifier: string | undefined,
    cost: number,
    dryRun: boolean,
  ): RateLimitResult | undefined {
    const key = this.keyOf(identifier);
    if (!dryRun) {
      const wait = this.certainWaitMs(key);
      if (wait > 0) {
        this.count(false, true);
        return this.storeFailureResult(identifier, false, wait, 'rate');
      }
    }
    const engine = this.store.engine;
    if (!engine.acquireSync || this.policy.concurrency) return undefined;
    let decision: LayerDecision;
    try {
      [decision] = engine.acquireSync([{ policy: this.policy, key, cost, maxWaitMs: 0, dryRun }]);
    } catch {
      return undefined; // let the general path meet the failure and apply fail-open/closed
    }
    if (!dryRun) {
      this.count(decision.allowed, false);
      this.metrics.countKeyCap(decision);
    }
    return this.toResult(decision, identifier);
  }

  private count(allowed: boolean, locally: boolean): void {
    const m = this.metrics;
    m.attempts++;
    if (allowed) m.allowed++;
    else m.rejected++;
    if (locally) m.rejectedLocally++;
  }

  request(key: string, cost: number, maxWaitMs: number, dryRun: boolean): AcquireRequest {
    const leaseId = this.policy.concurrency && !dryRun ? randomLeaseId() : undefined;
    return { policy: this.policy, key, cost, maxWaitMs, leaseId, dryRun };
  }

  toResult(d: LayerDecision, identifier: string | undefined, waitedMs?: number): RateLimitResult {
    return {
      allowed: d.allowed,
      limit: d.limit,
      remaining: d.remaining,
      resetAt: d.resetAt,
      retryAfterMs: d.allowed ? 0 : Math.max(0, d.retryAfterMs),
      limiterId: this.id,
      key: identifier ?? '',
      blockedBy: d.blockedBy,
      waitedMs,
    };
  }

  /** A result for a decision the store could not make. */
  storeFailureResult(
    identifier: string | undefined,
    allowed: boolean,
    retryAfterMs: number,
    blockedBy: RateLimitResult['blockedBy'] = 'store',
  ): RateLimitResult {
    const limit = policyLimit(this.policy);
    const now = this.clock.now();
    return {
      allowed,
      limit,
      remaining: allowed ? limit : 0,
      resetAt: allowed ? now : now + retryAfterMs,
      retryAfterMs: allowed ? 0 : retryAfterMs,
      limiterId: this.id,
      key: identifier ?? '',
      blockedBy,
      failedOpen: (allowed && blockedBy === 'store') || undefined,
    };
  }

  // --- certain rejections (answered without a store round trip) ---

  /** Remembers that cost-1 acquisitions of `key` fail until `retryAfterMs` from now. */
  noteRejected(key: string, cost: number, d: LayerDecision): void {
    if (this.store.engine.kind === 'memory' || cost !== 1 || d.blockedBy !== 'rate') return;
    if (this.blockedUntil.size >= MAX_BLOCKED_KEYS) this.pruneBlocked();
    if (this.blockedUntil.size >= MAX_BLOCKED_KEYS) return;
    this.blockedUntil.set(key, this.clock.now() + d.retryAfterMs);
  }

  /** Milliseconds a call must certainly wait for `key`, or 0 when unknown. */
  certainWaitMs(key: string): number {
    if (this.blockedUntil.size === 0) return 0;
    const until = this.blockedUntil.get(key);
    if (until === undefined) return 0;
    const wait = until - this.clock.now();
    if (wait <= 0) this.blockedUntil.delete(key);
    return Math.max(0, wait);
  }

  forgetBlocked(key?: string): void {
    if (key === undefined) this.blockedUntil.clear();
    else this.blockedUntil.delete(key);
  }

  private pruneBlocked(): void {
    const now = this.clock.now();
    for (const [k, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(k);
  }

  // --- leases held by this process ---

  hold(leaseId: string, key: string): void {
    this.held.set(leaseId, key);
    this.metrics.inFlight = this.held.size;
    if (!this.renewTimer && this.policy.concurrency) {
      this.renewTimer = setInterval(() => void this.renew(), this.policy.concurrency.leaseMs / 3);
      this.renewTimer.unref();
    }
  }

  /** Forgets a lease; true when it was held (so exactly one caller releases it). */
  unhold(leaseId: string): boolean {
    const had = this.held.delete(leaseId);
    this.metrics.inFlight = this.held.size;
    if (this.held.size === 0 && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    return had;
  }

  /** Leases held now: [leaseId, storage key]. */
  heldLeases(): [string, string][] {
    return [...this.held];
  }

  private async renew(): Promise<void> {
    const byKey = new Map<string, string[]>();
    for (const [lease, key] of this.held) byKey.set(key, [...(byKey.get(key) ?? []), lease]);
    for (const [key, leases] of byKey) {
      try {
        await this.store.call((e) => e.renew(this.policy, key, leases));
      } catch (err) {
        this.store.log.warn(
          `renew:${this.id}`,
          `rate-sync: renewing leases of '${this.id}' failed: ${errorText(err)}`,
        );
      }
    }
  }
}

function randomLeaseId(): string {
  return globalThis.crypto.randomUUID();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
