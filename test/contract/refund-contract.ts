import { RateLimitExceededError, type Permit, type RateSync } from '../../lib/core';
import { type ContractTarget, harnessSetup } from './contract-target';

/**
 * Refunds (`Permit.refund`) on every engine: what an admission took comes back exactly once,
 * and never more than it took, also while other requests race for the same key; a caller that
 * stops waiting for a reserved slot gives the reservation back.
 */
export function refundContract(target: ContractTarget): void {
  const setup = harnessSetup(target);

  /** Takes permits one by one until the first rejection; returns them. */
  const drain = async (rs: RateSync, id: string, max = 50): Promise<Permit[]> => {
    const permits: Permit[] = [];
    for (let i = 0; i < max; i++) {
      const p = await rs.tryAcquire(id);
      if (!p) break;
      permits.push(p);
    }
    return permits;
  };

  describe('refunds', () => {
    it('token bucket: each refund gives back one admission, once', async () => {
      // 0.1/s: no unit comes back by itself during the test.
      const { rs } = await setup({ tb: { ratePerSecond: 0.1, burst: 4 } });
      const first = await drain(rs, 'tb');
      expect(first).toHaveLength(4);
      await first[1].refund();
      await first[1].refund(); // idempotent
      await first[2].refund();
      expect(first[1].refunded).toBe(true);
      expect(await drain(rs, 'tb')).toHaveLength(2);
    });

    it('token bucket: a refund never fills the bucket beyond its burst', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 0.1, burst: 3 } });
      const one = await rs.tryAcquire('tb');
      await one!.refund();
      await one!.refund();
      expect(await drain(rs, 'tb')).toHaveLength(3);
    });

    it('sliding window: removes exactly the entry the admission recorded', async () => {
      const h = await setup({ w: { algorithm: 'sliding_window', limit: 5, windowSeconds: 30 } });
      const a = await h.rs.acquire('w', { timeout: 0 });
      await h.advance(400);
      const b = await h.rs.acquire('w', { timeout: 0, cost: 2 });
      await h.advance(400);
      const c = await h.rs.acquire('w', { timeout: 0 });
      await b.refund();
      // Left: a (1) and c (1). Removing a or c instead would leave 3 units taken.
      const state = await h.rs.state('w');
      expect(state.remaining).toBe(3);
      // A cost of 4 needs a's unit back: a's entry expires first, 30 s after it was recorded
      // (its resetAt); had a's entry been removed, the wait would run to b's, 400 ms later.
      const now = (): number => h.clock?.now() ?? Date.now();
      const before = now();
      const probe = await h.rs.check('w', { cost: 4, consume: false });
      const after = now();
      expect(probe.allowed).toBe(false);
      expect(probe.retryAfterMs).toBeGreaterThanOrEqual(a.result.resetAt - after - h.tolMs);
      expect(probe.retryAfterMs).toBeLessThanOrEqual(a.result.resetAt - before + h.tolMs);
      await c.refund();
      await a.refund();
      expect((await h.rs.state('w')).remaining).toBe(5);
      await b.refund(); // already refunded: nothing more
      expect(await drain(h.rs, 'w')).toHaveLength(5);
    });

    it('sliding window: a refund of an entry already gone changes nothing', async () => {
      const h = await setup({ w: { algorithm: 'sliding_window', limit: 2, windowSeconds: 60 } });
      const { rs } = h;
      const [p] = await drain(rs, 'w');
      await rs.reset('w');
      await h.advance(5);
      const again = await drain(rs, 'w');
      expect(again).toHaveLength(2);
      await p.refund(); // recorded before the reset: no entry of it is left to remove
      expect(await drain(rs, 'w')).toHaveLength(0);
    });

    it('combined: a refund gives back the rate units and frees the slot', async () => {
      const { rs } = await setup({ c: { ratePerSecond: 0.1, burst: 1, maxConcurrent: 1 } });
      const p = await rs.tryAcquire('c');
      expect(await rs.tryAcquire('c')).toBeNull();
      await p!.refund();
      expect(p!.released).toBe(true);
      expect(await rs.tryAcquire('c')).not.toBeNull();
    });

    it('a composite refund gives back every layer', async () => {
      const { rs } = await setup({
        a: { ratePerSecond: 0.1, burst: 1 },
        b: { algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
      });
      const plan = rs.plan(['a', 'b'], { kind: 'call', mode: 'try' });
      const first = await rs.execute(plan, ['k', 'k']);
      expect(first.permit).toBeDefined();
      expect((await rs.execute(plan, ['k', 'k'])).permit).toBeUndefined();
      await first.permit!.refund();
      expect((await rs.execute(plan, ['k', 'k'])).permit).toBeDefined();
    });

    for (const [name, options] of [
      ['token bucket', { ratePerSecond: 0.01, burst: 10 }],
      ['sliding window', { algorithm: 'sliding_window' as const, limit: 10, windowSeconds: 600 }],
    ] as const) {
      it(`${name}: refunds racing other requests admit the limit plus the refunds, never more`, async () => {
        const { rs } = await setup({ x: options });
        const early = await Promise.all(
          [1, 2, 3].map(() => rs.acquire('x', { key: 'hot', timeout: 0 })),
        );
        const racing = await Promise.all([
          ...Array.from({ length: 30 }, () => rs.tryAcquire('x', { key: 'hot' })),
          ...early.map((p) => p.refund().then(() => null)),
        ]);
        let admitted = early.length + racing.filter((p) => p !== null).length;
        // Whatever the refunds gave back and the race did not take is still there, exactly.
        for (let i = 0; i < 10; i++) if (await rs.tryAcquire('x', { key: 'hot' })) admitted++;
        expect(admitted).toBe(10 + early.length);
      });
    }
  });

  describe('a caller that stops waiting gives its reservation back', () => {
    it('token bucket: the next caller does not wait behind it', async () => {
      const h = await setup({ tb: { ratePerSecond: 2 } });
      await h.rs.acquire('tb', { timeout: 0 });
      const abort = new AbortController();
      const waiting = h.rs.acquire('tb', { timeout: 10, signal: abort.signal });
      await h.stagger();
      abort.abort();
      await expect(waiting).rejects.toBeInstanceOf(RateLimitExceededError);
      // Without the refund the next slot would be 1000 ms away (behind the reservation).
      const next = await h.rs.check('tb', { consume: false });
      expect(next.retryAfterMs).toBeLessThanOrEqual(500);
    });

    it('sliding window: the next caller does not wait behind it', async () => {
      const h = await setup({ w: { algorithm: 'sliding_window', limit: 1, windowSeconds: 2 } });
      await h.rs.acquire('w', { timeout: 0 });
      const abort = new AbortController();
      const waiting = h.rs.acquire('w', { timeout: 10, signal: abort.signal });
      await h.stagger();
      abort.abort();
      await expect(waiting).rejects.toBeInstanceOf(RateLimitExceededError);
      // Without the refund the next slot would be 4 s away (after the reserved entry's window).
      const next = await h.rs.check('w', { consume: false });
      expect(next.retryAfterMs).toBeLessThanOrEqual(2000);
      expect(next.retryAfterMs).toBeGreaterThan(2000 - 500);
    });

    it('tryAcquire with a signal aborted while waiting resolves null and refunds', async () => {
      const h = await setup({ tb: { ratePerSecond: 2 } });
      await h.rs.acquire('tb', { timeout: 0 });
      const abort = new AbortController();
      const waiting = h.rs.tryAcquire('tb', { timeout: 10, signal: abort.signal });
      await h.stagger();
      abort.abort();
      expect(await waiting).toBeNull();
      expect((await h.rs.check('tb', { consume: false })).retryAfterMs).toBeLessThanOrEqual(500);
    });
  });
}
