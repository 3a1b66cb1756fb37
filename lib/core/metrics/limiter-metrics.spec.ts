import { ManualClock } from '../clock';
import { RateSync } from '../rate-sync';
import { toPrometheus } from './prometheus';

describe('key-cap metrics of a memory store', () => {
  it('counts refused new keys as rejections and evicted keys, per limiter, in Prometheus too', async () => {
    const clock = new ManualClock();
    const rs = new RateSync(
      {
        stores: { m: { engine: 'memory', maxKeys: 3 } },
        limiters: {
          login: { store: 'm', algorithm: 'sliding_window', limit: 2, windowSeconds: 300 },
          jobs: { store: 'm', maxConcurrent: 1, leaseSeconds: 10 },
        },
      },
      { clock },
    );
    await rs.connect();
    for (const who of ['a', 'b', 'c', 'd']) await rs.check('login', { key: who });
    // tryAcquire counts too: 'd' was refused above, 'e' is refused here.
    expect(await rs.tryAcquire('login', { key: 'e' })).toBeNull();
    expect(rs.metrics('login')).toMatchObject({ rejected: 2, refusedKeys: 2, evictedKeys: 0 });
    await clock.advance(300_000);
    expect((await rs.check('login', { key: 'f' })).allowed).toBe(true);
    expect(rs.metrics('login')).toMatchObject({ refusedKeys: 2, evictedKeys: 1 });
    const text = toPrometheus(rs.allMetrics());
    expect(text).toContain('rate_sync_refused_keys_total{limiter="login"} 2');
    expect(text).toContain('rate_sync_evicted_keys_total{limiter="login"} 1');
    expect(text).toContain('rate_sync_refused_keys_total{limiter="jobs"} 0');
    await rs.close();
  });
});
