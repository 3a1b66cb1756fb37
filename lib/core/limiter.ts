import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { InvalidArgumentError } from './errors';
import { HeldLeases } from './held-leases';
import { escapeKeyPart } from './keys';
import { MetricsRecorder, type AcquisitionOutcome } from './metrics/limiter-metrics';
import { storeFailurePolicy, type LimiterOptions } from './options';
import { maxCost, policyLimit, toPolicy, type LimiterPolicy } from './policy';
import type { RateLimitResult } from './result';
import type { StoreHandle } from './store-handle';

/** Bound of the per-limiter cache of keys known to be rejected until a given time. */
const MAX_BLOCKED_KEYS = 10_000;

/** The outcomes that shadow mode turns into `shadowRejected` (the call proceeds). */
const SHADOWED = new Set<AcquisitionOutcome>(['rejected', 'rejectedLocally', 'timedOut']);

/** The estimated hold time of a slot before this process has seen one released. */
const DEFAULT_HOLD_MS = 1000;

/**
 * A named policy bound to a store, at run time. It owns the limiter's runtime state: its
 * counters, the leases this process holds, and the bounded cache of certain rejections.
 * Identifiers are data passed to the store; no per-key objects beyond that cache.
 */
export class Limiter {
  readonly policy: LimiterPolicy;
  readonly metrics: MetricsRecorder;
  readonly leases: HeldLeases;
  /** False in shadow mode: rejections are counted and logged, and the call proceeds. */
  readonly enforced: boolean;
  /** storage key -> clock ms before which a cost-1 acquisition is certainly rejected. */
  private readonly blockedUntil = new Map<string, number>();
  /** The largest cost this policy can ever admit. */
  readonly maxCost: number;

  constructor(
    readonly id: string,
    readonly options: Readonly<LimiterOptions>,
    readonly store: StoreHandle,
    private readonly clock: Clock,
    /** The id exported metrics label it with: a `getOrClone` clone's base id, else its own. */
    readonly labelId: string = id,
  ) {
    this.policy = toPolicy(id, options);
    this.enforced = options.enforce !== false;
    this.maxCost = maxCost(this.policy);
    const labels = { limiter: labelId, store: store.id };
    this.metrics = new MetricsRecorder(id, labels, store.observers);
    this.leases = new HeldLeases(id, this.policy, store, this.metrics, clock);
    if (storeFailurePolicy(options) === 'local') store.needFleet();
  }

  /** The storage key of an identifier ('' or undefined: the global bucket). */
  keyOf(identifier: string | undefined): string {
    return identifier === undefined || identifier === ''
      ? this.policy.keyPrefix
      : `${this.policy.keyPrefix}:${escapeKeyPart(identifier)}`;
  }

  /** Checks a cost against what this policy can ever admit. */
  validateCost(cost: number): void {
    if (cost === 1) return;
    if (!Number.isInteger(cost) || cost < 1) {
      throw new InvalidArgumentError('cost', `expected an integer >= 1, got ${String(cost)}`);
    }
    const max = this.maxCost;
    if (cost > max && !this.policy.gcra && !this.policy.window) {
      throw new InvalidArgumentError(
        'cost',
        `limiter '${this.id}' has only max_concurrent: each acquisition takes one slot, so cost must be 1 (got ${cost})`,
      );
    }
    if (cost > max) {
      throw new InvalidArgumentError(
        'cost',
        `${cost} exceeds what limiter '${this.id}' can ever admit (${max}); lower the cost or raise burst/limit`,
      );
    }
  }

  /** Counts one acquisition's outcome for this limiter (a rejection in shadow mode as such). */
  record(outcome: AcquisitionOutcome, waitedMs = 0): void {
    const shadow = !this.enforced && SHADOWED.has(outcome);
    this.metrics.record(shadow ? 'shadowRejected' : outcome, waitedMs);
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
        this.record('rejectedLocally');
        return this.storeFailureResult(identifier, false, wait, 'rate');
      }
    }
    const engine = this.store.engine;
    if (!engine.acquireSync || this.policy.concurrency) return undefined;
    let decision: LayerDecision;
    try {
      [decision] = this.store.decideSync([
        { policy: this.policy, key, cost, maxWaitMs: 0, dryRun },
      ]);
    } catch {
      return undefined; // let the general path meet the failure and apply fail-open/closed
    }
    if (!dryRun) {
      this.record(decision.allowed ? 'allowed' : 'rejected');
      this.metrics.countKeyCap(decision);
    }
    return this.toResult(decision, identifier);
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
      retryAfterMs: d.allowed ? 0 : this.retryAfterMs(d),
      limiterId: this.id,
      key: identifier ?? '',
      blockedBy: d.blockedBy,
      waitedMs,
    };
  }

  /**
   * The retry delay of a rejection. Rate and window rejections: the store's exact figure.
   * Concurrency: an estimate of when a slot frees, the average hold time seen in this process
   * divided by `max_concurrent` (releases arrive about that often when every slot is busy;
   * {@link DEFAULT_HOLD_MS} until one was seen), never later than the earliest lease expiry.
   */
  private retryAfterMs(d: LayerDecision): number {
    const exact = Math.max(0, d.retryAfterMs);
    const conc = this.policy.concurrency;
    if (d.blockedBy !== 'concurrency' || !conc) return exact;
    const estimate = (this.leases.averageHoldMs ?? DEFAULT_HOLD_MS) / conc.max;
    return Math.min(exact, Math.ceil(estimate));
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
}

function randomLeaseId(): string {
  return globalThis.crypto.randomUUID();
}
