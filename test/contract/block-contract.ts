import { type ContractTarget, harnessSetup } from './contract-target';

/**
 * `block_seconds` on every engine: once a key is rejected for its rate it stays rejected for
 * that long, nothing is consumed meanwhile, and `retryAfterMs` says when it ends.
 */
export function blockContract(target: ContractTarget): void {
  const setup = harnessSetup(target);

  describe('block_seconds', () => {
    it('token bucket: a rejected key stays rejected for block_seconds, then recovers', async () => {
      // 2/s: the rate alone would admit again after 500 ms.
      const h = await setup({ tb: { ratePerSecond: 2, blockSeconds: 1 } });
      expect((await h.rs.check('tb', { key: 'k' })).allowed).toBe(true);
      const rejected = await h.rs.check('tb', { key: 'k' });
      expect(rejected.allowed).toBe(false);
      expect(rejected.retryAfterMs).toBeGreaterThan(1000 - h.tolMs - 50);
      expect(rejected.retryAfterMs).toBeLessThanOrEqual(1000);
      await h.advance(300);
      const still = await h.rs.check('tb', { key: 'k' });
      expect(still.allowed).toBe(false);
      expect(still.retryAfterMs).toBeGreaterThan(700 - 3 * h.tolMs - 50);
      expect(still.retryAfterMs).toBeLessThanOrEqual(700 + h.tolMs);
      expect((await h.rs.check('tb', { key: 'other' })).allowed).toBe(true);
      await h.advance(800);
      expect((await h.rs.check('tb', { key: 'k' })).allowed).toBe(true);
    });

    it('sliding window: the block outlasts the window and does not extend itself', async () => {
      const h = await setup({
        w: { algorithm: 'sliding_window', limit: 1, windowSeconds: 0.2, blockSeconds: 1 },
      });
      expect((await h.rs.check('w')).allowed).toBe(true);
      expect((await h.rs.check('w')).allowed).toBe(false);
      await h.advance(500);
      const during = await h.rs.check('w');
      expect(during.allowed).toBe(false);
      expect(during.remaining).toBe(0);
      expect(during.retryAfterMs).toBeLessThanOrEqual(500 + h.tolMs);
      await h.advance(600);
      expect((await h.rs.check('w')).allowed).toBe(true);
    });

    it('consumes nothing while blocked, and a dry run neither blocks nor is blocked twice', async () => {
      const h = await setup({ tb: { ratePerSecond: 2, burst: 2, blockSeconds: 1 } });
      await h.rs.check('tb');
      await h.rs.check('tb');
      // A dry run that would be rejected does not block the key.
      const dry = await h.rs.check('tb', { consume: false });
      expect(dry.allowed).toBe(false);
      expect(dry.retryAfterMs).toBeLessThanOrEqual(500);
      expect((await h.rs.check('tb')).allowed).toBe(false); // this one blocks
      expect((await h.rs.check('tb', { consume: false })).retryAfterMs).toBeGreaterThan(500);
      for (let i = 0; i < 5; i++) await h.rs.check('tb');
      await h.advance(1100);
      // The bucket refilled during the block: the calls rejected meanwhile took nothing.
      expect((await h.rs.check('tb')).allowed).toBe(true);
      expect((await h.rs.check('tb')).allowed).toBe(true);
    });

    it('a composite with a blocked layer consumes no layer', async () => {
      const h = await setup({
        a: { ratePerSecond: 2, blockSeconds: 1 },
        b: { algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
      });
      const plan = h.rs.plan(['a', 'b'], { kind: 'call', mode: 'try' });
      expect((await h.rs.execute(plan, ['k', 'k'])).result.allowed).toBe(true);
      const blocked = await h.rs.execute(plan, ['k', 'k']);
      expect(blocked.result.allowed).toBe(false);
      expect(blocked.result.limiterId).toBe('a');
      await h.advance(300);
      expect((await h.rs.execute(plan, ['k', 'k'])).result.allowed).toBe(false);
      expect((await h.rs.state('b', 'k')).remaining).toBe(4);
    });

    it('state and reset: a reset lifts the block', async () => {
      const h = await setup({ tb: { ratePerSecond: 2, blockSeconds: 60 } });
      await h.rs.check('tb');
      await h.rs.check('tb');
      expect((await h.rs.state('tb')).remaining).toBe(0);
      await h.rs.reset('tb');
      expect((await h.rs.check('tb')).allowed).toBe(true);
    });
  });
}
