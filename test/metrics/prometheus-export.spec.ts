import * as promClient from 'prom-client';
import { exportMetrics, RateSync, type StoreOptions } from '../../lib/core';
import { metricsTargets } from './metrics-targets';

type Json = Awaited<ReturnType<promClient.Registry['getMetricsAsJSON']>>;

/** The value of one series, or undefined when it was never exposed. */
function value(json: Json, name: string, labels: Record<string, string>): number | undefined {
  const metric = json.find((m) => m.name === name);
  const series = (metric?.values ?? []) as { value: number; labels: Record<string, unknown> }[];
  const match = series.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return match?.value;
}

describe.each(metricsTargets())('prom-client export on $name', (target) => {
  let store: StoreOptions;
  let rs: RateSync;
  let registry: promClient.Registry;
  let detach: () => void;

  beforeEach(async () => {
    store = target.store();
    rs = new RateSync({
      stores: { main: store },
      limiters: {
        api: { store: 'main', ratePerSecond: 0.001, burst: 2 },
        reports: { store: 'main', maxConcurrent: 2, timeout: 0 },
      },
    });
    await rs.connect();
    registry = new promClient.Registry();
    detach = exportMetrics(rs, { prometheus: { registry }, openTelemetry: false });
  });

  afterEach(async () => {
    detach();
    await rs.close();
    await target.cleanup?.(store);
  });

  it('counts decisions by limiter and outcome, times the store, and gauges held slots', async () => {
    for (let i = 0; i < 3; i++) await rs.tryAcquire('api', { key: 'user-1' });
    const a = await rs.acquire('reports');
    const b = await rs.acquire('reports');
    expect(await rs.tryAcquire('reports')).toBeNull();

    const json = await registry.getMetricsAsJSON();
    const decisions = (limiter: string, outcome: string) =>
      value(json, 'rate_sync_decisions_total', { limiter, store: 'main', outcome });
    expect(decisions('api', 'allowed')).toBe(2);
    expect(decisions('api', 'rejected')).toBe(1);
    expect(decisions('reports', 'allowed')).toBe(2);
    expect(decisions('reports', 'rejected')).toBe(1);
    expect(value(json, 'rate_sync_slots_held', { limiter: 'reports' })).toBe(2);
    expect(value(json, 'rate_sync_store_breaker_state', { store: 'main' })).toBe(0);
    expect(value(json, 'rate_sync_decision_duration_seconds', { store: 'main', le: '+Inf' })).toBe(
      6,
    );
    // No identifier ever becomes a label.
    expect(JSON.stringify(json)).not.toContain('user-1');

    await a.release();
    await b.release();
    const after = await registry.getMetricsAsJSON();
    expect(value(after, 'rate_sync_slots_held', { limiter: 'reports' })).toBe(0);
  });

  it('removes its metrics from the registry when detached', async () => {
    detach();
    detach = () => undefined;
    expect(registry.getSingleMetric('rate_sync_decisions_total')).toBeUndefined();
    await rs.tryAcquire('api');
    expect((await registry.metrics()).trim()).toBe('');
  });
});

describe('prom-client export: bounded series', () => {
  it('keeps the series count bounded under 100,000 distinct keys and clones', async () => {
    const rs = new RateSync(
      {
        stores: { main: { engine: 'memory' } },
        limiters: { per_tenant: { store: 'main', ratePerSecond: 0.001, burst: 1 } },
      },
      { maxClones: 1000 },
    );
    await rs.connect();
    const registry = new promClient.Registry();
    const detach = exportMetrics(rs, { prometheus: { registry }, openTelemetry: false });
    try {
      for (let i = 0; i < 100_000; i++) {
        const { id } = await rs.getOrClone('per_tenant', `tenant-${i}`);
        await rs.tryAcquire(id, { key: `user-${i}` });
        await rs.tryAcquire(id, { key: `user-${i}` });
      }
      const json = await registry.getMetricsAsJSON();
      const decisions = json.find((m) => m.name === 'rate_sync_decisions_total')!.values;
      expect(decisions.map((v) => v.labels)).toEqual([
        { limiter: 'per_tenant', store: 'main', outcome: 'allowed' },
        { limiter: 'per_tenant', store: 'main', outcome: 'rejected' },
      ]);
      expect(decisions.map((v) => v.value)).toEqual([100_000, 100_000]);
      const series = json.reduce((n, m) => n + m.values.length, 0);
      expect(series).toBeLessThan(40);
    } finally {
      detach();
      await rs.close();
    }
  }, 60_000);
});
