import { MAX_TIMER_MS, type Clock } from './clock';
import { errorText } from './error-text';
import type { MetricsRecorder } from './metrics/limiter-metrics';
import type { LimiterPolicy } from './policy';
import type { StoreHandle } from './store-handle';

/** One lease this process holds: its storage key and when it was taken (clock ms). */
interface HeldLease {
  readonly key: string;
  readonly since: number;
}

/** Weight of the newest hold time in the running average of hold times. */
const HOLD_AVERAGE_WEIGHT = 0.2;

/**
 * The concurrency leases one limiter holds in this process: the one owner of that state. It
 * renews them every `lease / 3` (or `max_hold`, if shorter) while any is held (one timer per
 * limiter, none when idle), takes back those held longer than `max_hold_seconds`,
 * releases them exactly once, and keeps the running average of how long a slot is held, which
 * estimates when a slot frees for a rejected caller.
 */
export class HeldLeases {
  private readonly held = new Map<string, HeldLease>();
  private renewTimer?: NodeJS.Timeout;
  private averageHold?: number;

  constructor(
    private readonly limiterId: string,
    private readonly policy: LimiterPolicy,
    private readonly store: StoreHandle,
    private readonly metrics: MetricsRecorder,
    private readonly clock: Clock,
  ) {}

  /** Leases held now. */
  get size(): number {
    return this.held.size;
  }

  /** Average milliseconds this process held a slot, once at least one was released. */
  get averageHoldMs(): number | undefined {
    return this.averageHold;
  }

  /** Records a lease the store granted. */
  hold(leaseId: string, key: string): this {
    this.held.set(leaseId, { key, since: this.clock.now() });
    this.metrics.holding(this.held.size, false);
    const conc = this.policy.concurrency;
    if (!this.renewTimer && conc) {
      const every = Math.min(conc.leaseMs / 3, conc.maxHoldMs, MAX_TIMER_MS);
      this.renewTimer = setInterval(() => void this.renew(), every);
      this.renewTimer.unref();
    }
    return this;
  }

  /**
   * Deletes a lease in the store, once: a lease that is not held (released already, or
   * forgotten by `close`) is a no-op. Never rejects; a failed release is logged and the lease
   * frees itself when it expires.
   */
  async release(leaseId: string): Promise<void> {
    const lease = this.held.get(leaseId);
    if (!lease) return;
    this.forget(leaseId, lease);
    try {
      await this.store.call((e) => e.release(this.policy, lease.key, leaseId));
    } catch (err) {
      this.store.log.warn(
        `release:${this.limiterId}`,
        `rate-sync: releasing a lease of '${this.limiterId}' failed (${errorText(err)}); it frees itself when it expires`,
      );
    }
  }

  /** Releases a lease whose permit was garbage-collected without being released. */
  async releaseForgotten(leaseId: string): Promise<void> {
    if (!this.held.has(leaseId)) return;
    this.store.log.warn(
      `forgotten:${this.limiterId}`,
      `rate-sync: a permit of '${this.limiterId}' was garbage-collected without release(); its slot is released now. Release every permit (release(), run() or \`await using\`)`,
    );
    await this.release(leaseId);
  }

  /** Releases every lease held (shutdown). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.keys()].map((id) => this.release(id)));
  }

  /** Releases the leases held longer than `max_hold_seconds`, with a warning. */
  private takeBackOverdue(): void {
    const maxHoldMs = this.policy.concurrency?.maxHoldMs ?? Infinity;
    if (maxHoldMs === Infinity) return;
    const now = this.clock.now();
    for (const [leaseId, { since }] of this.held) {
      if (now - since < maxHoldMs) continue;
      this.store.log.warn(
        `max-hold:${this.limiterId}`,
        `rate-sync: a permit of '${this.limiterId}' was held longer than max_hold_seconds (${maxHoldMs / 1000} s); its slot is taken back`,
      );
      this.metrics.evict();
      void this.release(leaseId);
    }
  }

  private forget(leaseId: string, lease: HeldLease): void {
    this.held.delete(leaseId);
    const heldMs = Math.max(0, this.clock.now() - lease.since);
    this.averageHold =
      this.averageHold === undefined
        ? heldMs
        : this.averageHold + HOLD_AVERAGE_WEIGHT * (heldMs - this.averageHold);
    this.metrics.holding(this.held.size, true);
    if (this.held.size === 0 && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
  }

  private async renew(): Promise<void> {
    this.takeBackOverdue();
    const byKey = new Map<string, string[]>();
    for (const [leaseId, { key }] of this.held) {
      const ids = byKey.get(key);
      if (ids) ids.push(leaseId);
      else byKey.set(key, [leaseId]);
    }
    for (const [key, leaseIds] of byKey) {
      try {
        await this.store.call((e) => e.renew(this.policy, key, leaseIds));
      } catch (err) {
        this.store.log.warn(
          `renew:${this.limiterId}`,
          `rate-sync: renewing leases of '${this.limiterId}' failed: ${errorText(err)}`,
        );
      }
    }
  }
}
