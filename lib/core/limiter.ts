import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { InvalidArgumentError } from './errors';
import { HeldLeases } from './held-leases';
import { escapeKeyPart } from './keys';
import { forgetsSoFar, KnownRejections } from './known-rejections';
import { MetricsRecorder, type AcquisitionOutcome } from './metrics/limiter-metrics';
import { storeFailurePolicy, type LimiterOptions } from './options';
import type { Permit } from './permit';
import { permitOfLayer } from './permit-leases';
import { maxCost, policyLimit, toPolicy, type LimiterPolicy } from './policy';
import type { RateLimitResult } from './result';
import type { StoreHandle } from './store-handle';

/** The outcomes that shadow mode turns into `shadowRejected` (the call proceeds). */
const SHADOWED = new Set<AcquisitionOutcome>(['rejected', 'rejectedLocally', 'timedOut']);

/** The estimated hold time of a slot before this process has seen one released. */
const DEFAULT_HOLD_MS = 1000;

/** A single-layer call decided at once: its result, and its permit when admitted and consumed. */
export interface DecidedNow {
  readonly result: RateLimitResult;
  readonly permit?: Permit;
}

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
  /** Keys a shared store rejected, answered without asking it again until they can pass. */
  private readonly rejections: KnownRejections;
  /** The largest cost this policy can ever admit. */
  readonly maxCost: number;
  /**
   * The identifier {@link keyOf} saw last and its storage key: a hot identifier's key is built
   * once, and the engine's maps hash that one string once, instead of a new string per call.
   */
  private lastIdentifier?: string;
  private lastKey = '';

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
    this.rejections = new KnownRejections(clock);
    if (storeFailurePolicy(options) === 'local') store.needFleet();
  }

  /** The storage key of an identifier ('' or undefined: the global bucket). */
  keyOf(identifier: string | undefined): string {
    if (identifier === undefined || identifier === '') return this.policy.keyPrefix;
    if (identifier === this.lastIdentifier) return this.lastKey;
    const key = `${this.policy.keyPrefix}:${escapeKeyPart(identifier)}`;
    this.lastIdentifier = identifier;
    this.lastKey = key;
    return key;
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
   * the call in the metrics when it decides. An admission that consumed comes with its permit
   * (which can refund what it took). Shadow mode is the caller's (`letShadowThrough`).
   */
  decideNow(identifier: string | undefined, cost: number, dryRun: boolean): DecidedNow | undefined {
    const key = this.keyOf(identifier);
    if (!dryRun) {
      const known = this.knownRejection(key, identifier);
      if (known) {
        this.record('rejectedLocally');
        return { result: known };
      }
    }
    const engine = this.store.engine;
    if (!engine.acquireSync || this.policy.concurrency) return undefined;
    let decision: LayerDecision;
    try {
      decision = this.store.decideSync([
        { policy: this.policy, key, cost, maxWaitMs: 0, dryRun },
      ])[0];
    } catch {
      return undefined; // let the general path meet the failure and apply fail-open/closed
    }
    if (!dryRun) {
      this.record(decision.allowed ? 'allowed' : 'rejected');
      this.metrics.countKeyCap(decision);
    }
    const result = this.toResult(decision, identifier);
    if (!decision.allowed || dryRun) return { result };
    return { result, permit: permitOfLayer(result, this, key, cost, decision.entryAt) };
  }

  request(key: string, cost: number, maxWaitMs: number, dryRun: boolean): AcquireRequest {
    const leaseId = this.policy.concurrency && !dryRun ? randomLeaseId() : undefined;
    return { policy: this.policy, key, cost, maxWaitMs, leaseId, dryRun };
  }

  /**
   * The result of a store's decision. `sinceDecisionMs`: time spent since the store decided (a
   * sleep for the reserved slot), which moves the answer's `now` on.
   */
  toResult(
    d: LayerDecision,
    identifier: string | undefined,
    waitedMs?: number,
    sinceDecisionMs = 0,
  ): RateLimitResult {
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
      now: d.now + sinceDecisionMs,
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
    if (d.blockedBy !== 'concurrency' || !this.policy.concurrency) return exact;
    return Math.min(exact, this.slotFreesInMs());
  }

  /**
   * Concurrency: how soon a slot is expected to free when all are busy, the average hold time
   * seen in this process divided by `max_concurrent` ({@link DEFAULT_HOLD_MS} until one was
   * seen). Only for a policy with concurrency.
   */
  slotFreesInMs(): number {
    const estimate = (this.leases.averageHoldMs ?? DEFAULT_HOLD_MS) / this.policy.concurrency!.max;
    return Math.ceil(estimate);
  }

  /**
   * The result of a fail-open admission, when the store could not decide: nothing was counted
   * (`failedOpen`), so its figures are the policy's, on this process's clock.
   */
  failedOpenResult(identifier: string | undefined): RateLimitResult {
    const limit = policyLimit(this.policy);
    const now = this.clock.now();
    return {
      allowed: true,
      limit,
      remaining: limit,
      resetAt: now,
      retryAfterMs: 0,
      limiterId: this.id,
      key: identifier ?? '',
      blockedBy: 'store',
      failedOpen: true,
      now,
    };
  }

  // --- certain rejections (answered without a store round trip) ---

  /**
   * Remembers a shared store's rejection of a cost-1 acquisition of `key` for rate, unless a
   * known rejection was forgotten since the call asked (`forgets`: {@link forgetsSoFar} then).
   */
  noteRejected(key: string, cost: number, d: LayerDecision, forgets: number): void {
    if (this.store.engine.kind === 'memory' || cost !== 1 || d.blockedBy !== 'rate') return;
    if (forgets !== forgetsSoFar()) return; // a refund or reset may have made room since
    this.rejections.note(key, d);
  }

  /**
   * The rejection of `key` known now without asking the store, as the store reported it: no
   * capacity left, its reset on the store's clock. Undefined when unknown.
   */
  knownRejection(key: string, identifier: string | undefined): RateLimitResult | undefined {
    const known = this.rejections.get(key);
    if (!known) return undefined;
    return {
      allowed: false,
      limit: known.limit,
      remaining: 0,
      resetAt: known.resetAt,
      retryAfterMs: known.retryAfterMs,
      limiterId: this.id,
      key: identifier ?? '',
      blockedBy: 'rate',
      now: known.now,
    };
  }

  forgetBlocked(key?: string): void {
    this.rejections.forget(key);
  }
}

function randomLeaseId(): string {
  return globalThis.crypto.randomUUID();
}
