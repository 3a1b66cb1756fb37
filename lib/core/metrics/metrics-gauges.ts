/** Values exporters read at scrape time, from {@link RateSync.gauges}. */
export interface MetricsGauges {
  /** Concurrency slots this process holds, per limiter (clones folded into their base id). */
  readonly slots: readonly { readonly limiter: string; readonly store: string; held: number }[];
  /** Each store's circuit breaker: `closed`, `half-open` or `open`. */
  readonly breakers: readonly { readonly store: string; readonly state: BreakerState }[];
  /**
   * Each store's degraded mode: `seconds` spent in it so far, undefined when the store decides
   * (limiters with `on_store_failure = "local"` decide in this process while it is down).
   */
  readonly degraded: readonly { readonly store: string; readonly seconds?: number }[];
}

/** A circuit breaker's state. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** The exported value of a breaker state: 0 closed, 1 half-open (probing), 2 open. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};
