import type { DecisionOutcome, MetricLabels, MetricsObservers } from './metrics-observer';

/** Counters of one limiter in this process. Cumulative since start (or since `reset`). */
export interface LimiterMetrics {
  /** The limiter these counters belong to. */
  readonly limiterId: string;
  /** Acquisition attempts (each call, whatever its outcome). */
  readonly attempts: number;
  /** Admitted (including fail-open admissions). */
  readonly allowed: number;
  /** Rejected because the limit was reached (HTTP 429). */
  readonly rejected: number;
  /** Of the rejections, those answered from process memory without a store call. */
  readonly rejectedLocally: number;
  /** Of the rejections, those of a call that waited and ran out of time. */
  readonly timedOut: number;
  /** Rejections of a limiter in shadow mode (`enforce = false`): the call proceeded. */
  readonly shadowRejected: number;
  /** Permits taken back because they were held longer than `max_hold_seconds`. */
  readonly evicted: number;
  /** Admissions that waited for a reserved slot or a released lease. */
  readonly waited: number;
  /** Total milliseconds spent waiting by admitted calls. */
  readonly totalWaitMs: number;
  /** Store calls that failed (errors, timeouts, open breaker). */
  readonly storeErrors: number;
  /** Admitted without counting because the store failed and the limiter is fail-open. */
  readonly failedOpen: number;
  /** Rejected because the store failed and the limiter is fail-closed (HTTP 503). */
  readonly failedClosed: number;
  /**
   * Of the admissions, those decided in this process alone while the store was down
   * (`on_store_failure = "local"`, degraded mode).
   */
  readonly degradedAllowed: number;
  /**
   * Of the rejections, those decided in this process alone: while the store was down, or just
   * after it came back, by what this process admitted during the outage (degraded mode).
   */
  readonly degradedRejected: number;
  /** Concurrency permits this process holds right now. */
  readonly inFlight: number;
  /** Permits released. */
  readonly released: number;
  /**
   * Memory stores at `max_keys`: keys dropped to make room for this limiter's new keys. Only
   * keys that restricted nothing any more (expired state) are ever dropped.
   */
  readonly evictedKeys: number;
  /**
   * Memory stores at `max_keys`: new keys of this limiter refused (and counted in `rejected`)
   * because every tracked key still restricted something. Non-zero means `max_keys` is too
   * small for the traffic, or a flood of new identifiers.
   */
  readonly refusedKeys: number;
}

type Counter = Exclude<keyof LimiterMetrics, 'limiterId' | 'inFlight'>;

/**
 * How one acquisition ended, for one limiter: admitted (after `waitedMs` of waiting, if any),
 * rejected by the store or by this process's cache of certain rejections, or decided by the
 * failure policy because the store failed.
 */
export type AcquisitionOutcome =
  | 'allowed'
  | 'rejected'
  | 'rejectedLocally'
  | 'timedOut'
  | 'shadowRejected'
  | 'failedOpen'
  | 'failedClosed'
  | 'degradedAllowed'
  | 'degradedRejected';

/** The exported label of each outcome (an admission that waited is `waited`). */
const LABEL: Record<AcquisitionOutcome, DecisionOutcome> = {
  allowed: 'allowed',
  rejected: 'rejected',
  rejectedLocally: 'rejected',
  timedOut: 'timed_out',
  shadowRejected: 'shadow_rejected',
  failedOpen: 'failed_open',
  failedClosed: 'failed_closed',
  degradedAllowed: 'degraded_allowed',
  degradedRejected: 'degraded_rejected',
};

/** The mutable counters behind {@link LimiterMetrics}: plain fields, cheap on the hot path. */
export class MetricsRecorder implements Record<Counter, number> {
  attempts = 0;
  allowed = 0;
  rejected = 0;
  rejectedLocally = 0;
  timedOut = 0;
  shadowRejected = 0;
  evicted = 0;
  waited = 0;
  totalWaitMs = 0;
  storeErrors = 0;
  failedOpen = 0;
  failedClosed = 0;
  degradedAllowed = 0;
  degradedRejected = 0;
  released = 0;
  evictedKeys = 0;
  refusedKeys = 0;
  inFlight = 0;

  /**
   * @param labels the bounded labels exported metrics use for this limiter
   * @param observers the exporters to tell about each outcome
   */
  constructor(
    readonly limiterId: string,
    private readonly labels: MetricLabels = { limiter: limiterId, store: '' },
    private readonly observers?: MetricsObservers,
  ) {}

  /** Tracks the concurrency permits held now, after one was taken or released. */
  holding(held: number, released: boolean): void {
    this.inFlight = held;
    if (released) this.released++;
  }

  /** Counts a held permit taken back because it outlived `max_hold_seconds`. */
  evict(): void {
    this.evicted++;
    if (this.observers?.active) this.observers.decided(this.labels, 'evicted', 0);
  }

  /**
   * Counts one acquisition and its outcome: the one way decisions reach the counters and the
   * attached exporters.
   */
  record(outcome: AcquisitionOutcome, waitedMs = 0): void {
    if (this.observers?.active) {
      const label = outcome === 'allowed' && waitedMs > 0 ? 'waited' : LABEL[outcome];
      this.observers.decided(this.labels, label, waitedMs);
    }
    this.attempts++;
    switch (outcome) {
      case 'allowed':
        this.allowed++;
        if (waitedMs > 0) {
          this.waited++;
          this.totalWaitMs += waitedMs;
        }
        return;
      case 'rejectedLocally':
        this.rejectedLocally++;
        this.rejected++;
        return;
      case 'rejected':
        this.rejected++;
        return;
      case 'timedOut':
        this.timedOut++;
        this.rejected++;
        return;
      case 'shadowRejected':
        this.shadowRejected++;
        return;
      case 'failedOpen':
        this.storeErrors++;
        this.failedOpen++;
        this.allowed++;
        return;
      case 'failedClosed':
        this.storeErrors++;
        this.failedClosed++;
        return;
      case 'degradedAllowed':
        this.degradedAllowed++;
        this.allowed++;
        return;
      case 'degradedRejected':
        this.degradedRejected++;
        this.rejected++;
        return;
    }
  }

  /** Counts what an engine reports of its key cap in one decision (memory stores only). */
  countKeyCap(d: { readonly evictedKeys?: number; readonly refusedNewKey?: boolean }): void {
    if (d.evictedKeys) this.evictedKeys += d.evictedKeys;
    if (d.refusedNewKey) this.refusedKeys++;
  }

  snapshot(): LimiterMetrics {
    return {
      limiterId: this.limiterId,
      attempts: this.attempts,
      allowed: this.allowed,
      rejected: this.rejected,
      rejectedLocally: this.rejectedLocally,
      timedOut: this.timedOut,
      shadowRejected: this.shadowRejected,
      evicted: this.evicted,
      waited: this.waited,
      totalWaitMs: this.totalWaitMs,
      storeErrors: this.storeErrors,
      failedOpen: this.failedOpen,
      failedClosed: this.failedClosed,
      degradedAllowed: this.degradedAllowed,
      degradedRejected: this.degradedRejected,
      inFlight: this.inFlight,
      released: this.released,
      evictedKeys: this.evictedKeys,
      refusedKeys: this.refusedKeys,
    };
  }
}
