import type * as PromClient from 'prom-client';
import type { RateSync } from '../rate-sync';
import { BREAKER_STATE_VALUE } from './metrics-gauges';
import type { DecisionOutcome, MetricLabels, MetricsObserver } from './metrics-observer';

/** Decision latency buckets, in seconds: an in-process decision to a slow network store. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
/** Wait time buckets, in seconds. */
export const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Children = Partial<Record<DecisionOutcome, PromClient.Counter.Internal>>;

/**
 * Registers the rate-sync instruments into a `prom-client` registry and feeds them from
 * `rateSync`; returns the function that detaches them and removes them from the registry.
 * A metric of the same name already in the registry (an earlier app in the same process) is
 * replaced.
 */
export function exportToPrometheus(
  client: typeof PromClient,
  rateSync: RateSync,
  registry: PromClient.Registry = client.register,
): () => void {
  const registers = [registry];
  const metrics: PromClient.Metric[] = [];
  const add = <M extends PromClient.Metric>(make: () => M): M => {
    const metric = make();
    metrics.push(metric);
    return metric;
  };
  const names = [
    'rate_sync_decisions_total',
    'rate_sync_decision_duration_seconds',
    'rate_sync_wait_seconds',
    'rate_sync_store_failures_total',
    'rate_sync_slots_held',
    'rate_sync_store_breaker_state',
    'rate_sync_store_degraded',
    'rate_sync_store_degraded_seconds',
  ];
  for (const name of names) if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);

  const decisions = add(
    () =>
      new client.Counter({
        name: 'rate_sync_decisions_total',
        help: 'Rate-limit decisions by limiter (clones folded into their base), store and outcome.',
        labelNames: ['limiter', 'store', 'outcome'],
        registers,
      }),
  );
  const latency = add(
    () =>
      new client.Histogram({
        name: 'rate_sync_decision_duration_seconds',
        help: 'Time the store took to decide an acquisition, in seconds.',
        labelNames: ['store'],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
  );
  const waits = add(
    () =>
      new client.Histogram({
        name: 'rate_sync_wait_seconds',
        help: 'Time admitted calls waited for their slot, in seconds.',
        labelNames: ['limiter', 'store'],
        buckets: WAIT_BUCKETS,
        registers,
      }),
  );
  const failures = add(
    () =>
      new client.Counter({
        name: 'rate_sync_store_failures_total',
        help: 'Store calls that failed (errors, timeouts, open breaker), by store.',
        labelNames: ['store'],
        registers,
      }),
  );
  add(
    () =>
      new client.Gauge({
        name: 'rate_sync_slots_held',
        help: 'Concurrency slots held by this process, by limiter.',
        labelNames: ['limiter', 'store'],
        registers,
        collect() {
          for (const { limiter, store, held } of rateSync.gauges().slots) {
            this.set({ limiter, store }, held);
          }
        },
      }),
  );
  add(
    () =>
      new client.Gauge({
        name: 'rate_sync_store_breaker_state',
        help: "Each store's circuit breaker: 0 closed, 1 half-open (probing), 2 open.",
        labelNames: ['store'],
        registers,
        collect() {
          for (const { store, state } of rateSync.gauges().breakers) {
            this.set({ store }, BREAKER_STATE_VALUE[state]);
          }
        },
      }),
  );

  add(
    () =>
      new client.Gauge({
        name: 'rate_sync_store_degraded',
        help: 'Each store: 1 while in degraded mode (local limits while it is down), else 0.',
        labelNames: ['store'],
        registers,
        collect() {
          for (const { store, seconds } of rateSync.gauges().degraded) {
            this.set({ store }, seconds === undefined ? 0 : 1);
          }
        },
      }),
  );
  add(
    () =>
      new client.Gauge({
        name: 'rate_sync_store_degraded_seconds',
        help: 'Each store: seconds spent in the current degraded mode, 0 when it decides.',
        labelNames: ['store'],
        registers,
        collect() {
          for (const { store, seconds } of rateSync.gauges().degraded) {
            this.set({ store }, seconds ?? 0);
          }
        },
      }),
  );

  // One child per (limiter labels, outcome): the hot path does a map lookup, no label hashing.
  const children = new WeakMap<MetricLabels, Children>();
  const observer: MetricsObserver = {
    decided(labels, outcome, waitedMs) {
      let byOutcome = children.get(labels);
      if (!byOutcome) children.set(labels, (byOutcome = {}));
      (byOutcome[outcome] ??= decisions.labels(labels.limiter, labels.store, outcome)).inc();
      if (outcome === 'waited') waits.labels(labels.limiter, labels.store).observe(waitedMs / 1000);
    },
    storeLatency(store, ms) {
      latency.labels(store).observe(ms / 1000);
    },
    storeFailed(store) {
      failures.labels(store).inc();
    },
  };
  const detach = rateSync.observe(observer);
  return () => {
    detach();
    for (const m of metrics) {
      const name = (m as unknown as { name: string }).name;
      if (registry.getSingleMetric(name) === m) registry.removeSingleMetric(name);
    }
  };
}
