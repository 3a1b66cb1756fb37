/**
 * How one decision ended, as exported metrics label it (`outcome`). Exclusive: each acquisition
 * has exactly one, plus `evicted` for a held permit taken back by `max_hold_seconds`.
 */
export type DecisionOutcome =
  | 'allowed'
  | 'waited'
  | 'rejected'
  | 'timed_out'
  | 'failed_open'
  | 'failed_closed'
  | 'degraded_allowed'
  | 'degraded_rejected'
  | 'shadow_rejected'
  | 'evicted';

/**
 * The bounded labels of one limiter: its id, with a `getOrClone` clone folded into the id it was
 * cloned from, and its store id. Never an identifier.
 */
export interface MetricLabels {
  readonly limiter: string;
  readonly store: string;
}

/**
 * Receives what the core measures, as it happens: the exporters (`prom-client`,
 * OpenTelemetry) implement it. Called on the hot path: keep each call cheap and never throw.
 */
export interface MetricsObserver {
  /** One decision of one limiter; `waitedMs` is the time the caller slept for its slot. */
  decided(labels: MetricLabels, outcome: DecisionOutcome, waitedMs: number): void;
  /** One store round trip that decided an acquisition, in milliseconds. */
  storeLatency(store: string, ms: number): void;
  /** One store call that failed (error, timeout, open breaker). */
  storeFailed(store: string): void;
}

/**
 * The observers attached to one `RateSync`: the one fan-out point. `active` is false while
 * none is attached, so an unobserved process pays one property read per decision.
 */
export class MetricsObservers implements MetricsObserver {
  private list: readonly MetricsObserver[] = [];

  get active(): boolean {
    return this.list.length > 0;
  }

  /** Attaches an observer; the returned function detaches it. */
  add(observer: MetricsObserver): () => void {
    this.list = [...this.list, observer];
    return () => {
      this.list = this.list.filter((o) => o !== observer);
    };
  }

  decided(labels: MetricLabels, outcome: DecisionOutcome, waitedMs: number): void {
    for (const o of this.list) o.decided(labels, outcome, waitedMs);
  }

  storeLatency(store: string, ms: number): void {
    for (const o of this.list) o.storeLatency(store, ms);
  }

  storeFailed(store: string): void {
    for (const o of this.list) o.storeFailed(store);
  }
}
