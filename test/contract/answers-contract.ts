import type { RateLimitResult } from '../../lib/core';
import { rateLimitHeaders } from '../../lib/nest/http/rate-limit-headers';
import { makeHarness, type ContractTarget, type Harness, type Skew } from './contract-target';

const HOUR = 3_600_000;

/**
 * Every figure of an answer is true, on every engine: times measured on the store's clock
 * whatever this process's clock says, and a rejected composite reporting each layer as it is
 * (the layers that would have passed were not charged).
 */
export function answersContract(target: ContractTarget): void {
  const harnesses: Harness[] = [];
  const setup = async (
    limiters: Parameters<typeof makeHarness>[1],
    skew?: Skew,
  ): Promise<Harness> => {
    const h = await makeHarness(target, limiters, skew);
    harnesses.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.rs.close()));
  });

  describe('a rejected composite reports what it did', () => {
    const limiters = {
      bucket: { ratePerSecond: 0.01, burst: 3 },
      window: { algorithm: 'sliding_window' as const, limit: 3, windowSeconds: 600 },
      slots: { maxConcurrent: 3 },
      narrow: { algorithm: 'sliding_window' as const, limit: 1, windowSeconds: 600 },
    };
    const ids = ['bucket', 'window', 'slots', 'narrow'];

    it('each layer that would have passed reports its uncharged state, as state() reads it', async () => {
      const { rs } = await setup(limiters);
      expect((await rs.checkAll(ids, { key: 'u' })).allowed).toBe(true);
      const blocked = await rs.checkAll(ids, { key: 'u' });
      expect(blocked).toMatchObject({ allowed: false, blockingLimiterId: 'narrow', remaining: 0 });
      for (const [i, id] of ['bucket', 'window', 'slots'].entries()) {
        const state = await rs.state(id, 'u');
        expect(state.remaining).toBe(id === 'slots' ? 3 : 2);
        expect(blocked.layers[i]).toMatchObject({
          limiterId: id,
          allowed: true,
          remaining: state.remaining,
        });
        // A lone concurrency limit with no lease is "full now": its reset is the reading's time.
        if (id !== 'slots') expect(blocked.layers[i].resetAt).toBe(state.resetAt);
      }
    });

    it('an answer without the store (a known rejection) reports every layer truly', async () => {
      // Shared engines remember a certain rejection and answer the next calls from memory.
      const h = await setup({
        wide: { algorithm: 'sliding_window', limit: 5, windowSeconds: 600 },
        tb: { ratePerSecond: 0.01, burst: 2 },
      });
      const both = ['wide', 'tb'];
      expect((await h.rs.checkAll(both, { key: 'u' })).allowed).toBe(true);
      expect((await h.rs.checkAll(both, { key: 'u' })).allowed).toBe(true);
      const first = await h.rs.checkAll(both, { key: 'u' });
      const again = await h.rs.checkAll(both, { key: 'u' });
      const wide = await h.rs.state('wide', 'u');
      for (const r of [first, again]) {
        expect(r).toMatchObject({ allowed: false, blockingLimiterId: 'tb' });
        expect(r.layers[0]).toMatchObject({ allowed: true, remaining: 3, resetAt: wide.resetAt });
        expect(r.layers[1]).toMatchObject({ allowed: false, remaining: 0, limit: 2 });
      }
      // The bucket is full again 200 s after its first admission, not when the next one fits.
      expect(again.layers[1].resetAt).toBe(first.layers[1].resetAt);
    });

    it('a single layer answered without the store reports its reset on the store clock', async () => {
      const h = await setup({ tb: { ratePerSecond: 0.01, burst: 2 } }, { processMs: HOUR });
      await h.rs.check('tb');
      const full = await h.rs.check('tb');
      const first = await h.rs.check('tb');
      const again = await h.rs.check('tb');
      for (const r of [first, again]) {
        expect(r).toMatchObject({ allowed: false, remaining: 0, limit: 2 });
        // The bucket is full again when the second admission's slot ends: its reset.
        expect(r.resetAt).toBe(full.resetAt);
        // About 200 s and 100 s (less the time the calls took), not an hour off.
        expect(Math.abs(r.resetAt - (r.now ?? NaN) - 200_000)).toBeLessThan(1000);
        expect(Math.abs(r.retryAfterMs - 100_000)).toBeLessThan(1000);
      }
    });
  });

  describe("answers on the store's clock", () => {
    it.each<[string, Skew]>([
      ["this process's clock an hour ahead", { processMs: HOUR }],
      ["this process's clock an hour behind", { processMs: -HOUR }],
      ["the store's clock an hour ahead", { storeMs: HOUR }],
      ["the store's clock an hour behind", { storeMs: -HOUR }],
    ])('times until reset and retry are right with %s', async (_, skew) => {
      const h = await setup(
        {
          tb: { ratePerSecond: 0.5, burst: 3 },
          sw: { algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
        },
        skew,
      );
      const tol = h.tolMs;
      const { storeNow, processNow } = h;
      const headers = (r: RateLimitResult): Record<string, string> =>
        Object.fromEntries(rateLimitHeaders(r, 'both', processNow(), () => 60));

      const before = storeNow();
      const tb = await h.rs.check('tb', { key: 'u' });
      expect(tb.now).toBeGreaterThanOrEqual(before - tol);
      expect(tb.now).toBeLessThanOrEqual(storeNow() + tol);
      expect(Math.abs(tb.resetAt - (tb.now ?? NaN) - 2000)).toBeLessThanOrEqual(tol);
      expect(headers(tb)['RateLimit']).toBe('"tb";r=2;t=2');

      const admitted = await h.rs.check('sw', { key: 'u' });
      expect(headers(admitted)['RateLimit']).toBe('"sw";r=0;t=60');
      // X-RateLimit-Reset is on this server's clock (the one of its Date header).
      const reset = Number(headers(admitted)['X-RateLimit-Reset']) * 1000;
      expect(reset - (processNow() + 60_000)).toBeGreaterThan(-tol);
      expect(reset - (processNow() + 60_000)).toBeLessThan(1000 + tol);

      // 60 s less the time the calls took, not an hour off.
      const state = await h.rs.state('sw', 'u');
      expect(Math.abs(state.resetAt - (state.now ?? NaN) - 60_000)).toBeLessThan(1000);

      const rejected = await h.rs.checkAll(['tb', 'sw'], { key: 'u' });
      expect(rejected).toMatchObject({ allowed: false, blockingLimiterId: 'sw' });
      expect(headers(rejected)['RateLimit']).toBe('"tb";r=2;t=2, "sw";r=0;t=60');
      expect(headers(rejected)['Retry-After']).toBe('60');
    });

    it('an admission that slept for its reserved slot reports the time from its wake-up', async () => {
      const h = await setup({ tb: { ratePerSecond: 5 } }, { processMs: HOUR });
      await h.rs.acquire('tb');
      const waiting = h.rs.acquire('tb', { timeout: 5 });
      await h.clock?.advance(200);
      const { result } = await waiting;
      expect(result.waitedMs).toBeGreaterThan(0);
      // Full again 400 ms after the first admission: 200 ms after the reserved slot began.
      const untilReset = result.resetAt - (result.now ?? NaN);
      expect(untilReset).toBeLessThanOrEqual(200 + h.tolMs);
      // (On a server, less whatever the sleep overran.)
      if (h.clock) expect(untilReset).toBe(200);
    });
  });
}
