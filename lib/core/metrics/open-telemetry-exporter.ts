import type * as OtelApi from '@opentelemetry/api';
import type { RateSync } from '../rate-sync';
import { BREAKER_STATE_VALUE } from './metrics-gauges';
import type { DecisionOutcome, MetricLabels, MetricsObserver } from './metrics-observer';
import { LATENCY_BUCKETS, WAIT_BUCKETS } from './prometheus-exporter';

type Attributes = Partial<Record<DecisionOutcome, OtelApi.Attributes>>;

/**
 * Creates the rate-sync instruments on an OpenTelemetry meter (the global meter provider's by
 * default) and feeds them from `rateSync`; returns the function that detaches them. The same
 * instruments as the `prom-client` export, named in OpenTelemetry's dotted style.
 */
export function exportToOpenTelemetry(
  api: typeof OtelApi,
  rateSync: RateSync,
  meter: OtelApi.Meter = api.metrics.getMeter('@rate-sync/nestjs'),
): () => void {
  const decisions = meter.createCounter('rate_sync.decisions', {
    description:
      'Rate-limit decisions by limiter (clones folded into their base), store and outcome.',
    unit: '{decision}',
  });
  const latency = meter.createHistogram('rate_sync.decision.duration', {
    description: 'Time the store took to decide an acquisition.',
    unit: 's',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
  });
  const waits = meter.createHistogram('rate_sync.wait.duration', {
    description: 'Time admitted calls waited for their slot.',
    unit: 's',
    advice: { explicitBucketBoundaries: WAIT_BUCKETS },
  });
  const failures = meter.createCounter('rate_sync.store.failures', {
    description: 'Store calls that failed (errors, timeouts, open breaker).',
    unit: '{call}',
  });
  const slots = meter.createObservableGauge('rate_sync.slots.held', {
    description: 'Concurrency slots held by this process.',
    unit: '{slot}',
  });
  const breakers = meter.createObservableGauge('rate_sync.store.breaker_state', {
    description: "Each store's circuit breaker: 0 closed, 1 half-open (probing), 2 open.",
  });
  const degraded = meter.createObservableGauge('rate_sync.store.degraded', {
    description:
      'Seconds each store has been in degraded mode (local limits while it is down); 0 when it decides.',
    unit: 's',
  });
  const observe: OtelApi.BatchObservableCallback = (result) => {
    const gauges = rateSync.gauges();
    for (const { limiter, store, held } of gauges.slots) {
      result.observe(slots, held, { limiter, store });
    }
    for (const { store, state } of gauges.breakers) {
      result.observe(breakers, BREAKER_STATE_VALUE[state], { store });
    }
    for (const { store, seconds } of gauges.degraded) {
      result.observe(degraded, seconds ?? 0, { store });
    }
  };
  meter.addBatchObservableCallback(observe, [slots, breakers, degraded]);

  // One attribute object per (limiter labels, outcome), reused on every decision.
  const attributes = new WeakMap<MetricLabels, Attributes>();
  const observer: MetricsObserver = {
    decided(labels, outcome, waitedMs) {
      let byOutcome = attributes.get(labels);
      if (!byOutcome) attributes.set(labels, (byOutcome = {}));
      const attrs = (byOutcome[outcome] ??= { ...labels, outcome });
      decisions.add(1, attrs);
      if (outcome === 'waited') {
        waits.record(waitedMs / 1000, { limiter: labels.limiter, store: labels.store });
      }
    },
    storeLatency(store, ms) {
      latency.record(ms / 1000, { store });
    },
    storeFailed(store) {
      failures.add(1, { store });
    },
  };
  const detach = rateSync.observe(observer);
  return () => {
    detach();
    meter.removeBatchObservableCallback(observe, [slots, breakers, degraded]);
  };
}
