import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { exportMetrics, RateSync } from '../../lib/core';

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

describe('OpenTelemetry export', () => {
  it('feeds the same instruments through the metrics API', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const rs = new RateSync({
      stores: { main: { engine: 'memory' } },
      limiters: {
        api: { store: 'main', ratePerSecond: 0.001, burst: 1 },
        reports: { store: 'main', maxConcurrent: 1, timeout: 0 },
      },
    });
    await rs.connect();
    const detach = exportMetrics(rs, {
      prometheus: false,
      openTelemetry: { meter: provider.getMeter('test') },
    });
    try {
      await rs.tryAcquire('api', { key: 'user-1' });
      await rs.tryAcquire('api', { key: 'user-1' });
      const permit = await rs.acquire('reports');

      const { resourceMetrics } = await reader.collect();
      const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
      const points = (name: string) =>
        (metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<unknown>[];
      expect(points('rate_sync.decisions').map((p) => [p.attributes, p.value])).toEqual([
        [{ limiter: 'api', store: 'main', outcome: 'allowed' }, 1],
        [{ limiter: 'api', store: 'main', outcome: 'rejected' }, 1],
        [{ limiter: 'reports', store: 'main', outcome: 'allowed' }, 1],
      ]);
      expect(points('rate_sync.slots.held').map((p) => [p.attributes, p.value])).toEqual([
        [{ limiter: 'reports', store: 'main' }, 1],
      ]);
      expect(points('rate_sync.store.breaker_state').map((p) => p.value)).toEqual([0]);
      expect(points('rate_sync.decision.duration')).toHaveLength(1);
      expect(JSON.stringify(metrics)).not.toContain('user-1');
      await permit.release();
    } finally {
      detach();
      await rs.close();
      await provider.shutdown();
    }
  });
});
