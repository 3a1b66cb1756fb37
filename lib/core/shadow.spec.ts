import { ManualClock } from './clock';
import { RateSync, type RateSyncRuntimeOptions } from './rate-sync';
import type { LimiterOptions } from './options';

describe('shadow mode', () => {
  const setup = (api: Partial<LimiterOptions>, runtime: RateSyncRuntimeOptions = {}) => {
    const warnings: string[] = [];
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: {
          api: { store: 's', ratePerSecond: 0.001, burst: 2, ...api },
          slots: { store: 's', maxConcurrent: 1, timeout: 0, ...api },
        },
      },
      {
        clock: new ManualClock(),
        logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
        ...runtime,
      },
    );
    return { rs, warnings };
  };

  it.each([
    ['enforce = false on the limiter', { enforce: false }, {}],
    ['the module-wide switch', {}, { enforce: false }],
  ])(
    '%s: lets every call through, counting and logging would-be rejections',
    async (_, api, rt) => {
      const { rs, warnings } = setup(api, rt);
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await rs.check('api', { key: 'u' }));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, true]);
      expect(results.map((r) => r.shadow)).toEqual([undefined, undefined, true, true]);
      expect(await rs.tryAcquire('api', { key: 'u' })).not.toBeNull();
      // State is consumed exactly as if enforced.
      expect((await rs.state('api', 'u')).remaining).toBe(0);
      expect(rs.metrics('api')).toMatchObject({ allowed: 2, rejected: 0, shadowRejected: 3 });
      expect(warnings).toEqual([expect.stringContaining("limiter 'api' (shadow mode")]);
      expect(warnings[0]).not.toContain("'u'");

      const held = await rs.acquire('slots');
      const second = await rs.acquire('slots');
      expect(rs.metrics('slots')).toMatchObject({ allowed: 1, shadowRejected: 1, inFlight: 1 });
      await second.release();
      await held.release();
      expect(rs.list().find((l) => l.id === 'api')?.enforce).toBe(false);
    },
  );

  it('enforces by default', async () => {
    const { rs } = setup({});
    for (let i = 0; i < 2; i++) await rs.check('api', { key: 'u' });
    expect((await rs.check('api', { key: 'u' })).allowed).toBe(false);
    expect(rs.metrics('api')).toMatchObject({ rejected: 1, shadowRejected: 0 });
  });
});
