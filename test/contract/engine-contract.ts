import {
  InvalidArgumentError,
  LimiterNotFoundError,
  RateLimitExceededError,
  type Permit,
} from '../../lib/core';
import { type ContractTarget, harnessSetup } from './contract-target';

/**
 * The behaviour every engine must share (DESIGN 3), written once and run against memory,
 * Redis and PostgreSQL. It covers the Python rate-sync compliance suite, corrected where
 * DESIGN 9 says. Time-dependent cases use the manual clock on memory and short real waits
 * (with an honest tolerance) on the servers.
 */
export function engineContract(target: ContractTarget): void {
  const setup = harnessSetup(target);
  afterAll(async () => target.cleanup?.());

  describe('token bucket', () => {
    it('at burst = 1 spaces acquisitions: at 1/s an immediate second try fails', async () => {
      const { rs, tolMs } = await setup({ tb: { ratePerSecond: 1 } });
      expect((await rs.check('tb')).allowed).toBe(true);
      const second = await rs.check('tb');
      expect(second.allowed).toBe(false);
      expect(second.remaining).toBe(0);
      expect(second.retryAfterMs).toBeGreaterThan(1000 - tolMs - 50);
      expect(second.retryAfterMs).toBeLessThanOrEqual(1000);
    });

    it('admits burst back to back after idle time, then the steady rate', async () => {
      // 5/s: the six calls would have to be spread over 200 ms for a token to come back.
      const h = await setup({ tb: { ratePerSecond: 5, burst: 5 } });
      const first = await Promise.all([1, 2, 3, 4, 5, 6].map(() => h.rs.check('tb')));
      // Concurrent calls may reach a pooled store in any order: count, don't index.
      expect(first.filter((r) => r.allowed).length).toBe(5);
      expect(first.filter((r) => r.remaining === 0).length).toBe(2);
      await h.advance(1020);
      const again = await Promise.all([1, 2, 3, 4, 5, 6].map(() => h.rs.check('tb')));
      expect(again.filter((r) => r.allowed).length).toBe(5);
    });

    it('reports limit, remaining and reset', async () => {
      const h = await setup({ tb: { ratePerSecond: 2, burst: 3 } });
      const r = await h.rs.check('tb', { key: 'u1' });
      const now = h.clock?.now() ?? Date.now();
      expect(r).toMatchObject({
        allowed: true,
        limit: 3,
        remaining: 2,
        limiterId: 'tb',
        key: 'u1',
      });
      expect(Math.abs(r.resetAt - (now + 500))).toBeLessThanOrEqual(h.tolMs);
    });

    it('makes a waiting caller sleep exactly the reserved wait, in arrival order', async () => {
      const h = await setup({ tb: { ratePerSecond: 5 } });
      const order: number[] = [];
      const calls: Promise<number>[] = [];
      for (const i of [0, 1, 2]) {
        calls.push(
          h.rs.acquire('tb', { timeout: 5 }).then((p) => {
            order.push(i);
            return p.result.waitedMs ?? 0;
          }),
        );
        await h.stagger();
      }
      if (h.clock) {
        await h.clock.advance(200);
        await h.clock.advance(200);
      }
      const waits = await Promise.all(calls);
      expect(order).toEqual([0, 1, 2]);
      expect(waits[0]).toBeLessThanOrEqual(h.tolMs);
      // Each waiter sleeps until its reserved slot: 200 and 400 ms after the first admission.
      expect(Math.abs(waits[1] + h.staggerMs - 200)).toBeLessThanOrEqual(h.tolMs);
      expect(Math.abs(waits[2] + 2 * h.staggerMs - 400)).toBeLessThanOrEqual(h.tolMs);
      expect(h.rs.metrics('tb')).toMatchObject({ allowed: 3, waited: 2 });
    });

    it('rejects at once, reserving nothing, when the wait exceeds the timeout', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1 } });
      await rs.acquire('tb');
      await expect(rs.acquire('tb', { timeout: 0.2 })).rejects.toBeInstanceOf(
        RateLimitExceededError,
      );
      const err = await rs.acquire('tb', { timeout: 0.2 }).catch((e: RateLimitExceededError) => e);
      expect((err as RateLimitExceededError).result.retryAfterMs).toBeGreaterThan(500);
      expect(await rs.tryAcquire('tb')).toBeNull();
    });

    it('charges cost units and rejects a cost above burst', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1, burst: 5 } });
      expect((await rs.check('tb', { cost: 3 })).remaining).toBe(2);
      expect((await rs.check('tb', { cost: 3 })).allowed).toBe(false);
      expect((await rs.check('tb', { cost: 2 })).allowed).toBe(true);
      await expect(rs.check('tb', { cost: 6 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(rs.check('tb', { cost: 0 })).rejects.toThrow(/cost/);
    });

    it('keeps identifiers independent', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1 } });
      expect((await rs.check('tb', { key: 'a' })).allowed).toBe(true);
      expect((await rs.check('tb', { key: 'b' })).allowed).toBe(true);
      expect((await rs.check('tb', { key: 'a' })).allowed).toBe(false);
      expect((await rs.check('tb')).allowed).toBe(true);
    });
  });

  describe('sliding window', () => {
    it('admits limit, rejects, and recovers after the window', async () => {
      const h = await setup({ sw: { algorithm: 'sliding_window', limit: 3, windowSeconds: 0.5 } });
      const rs = [];
      for (let i = 0; i < 4; i++) rs.push(await h.rs.check('sw', { key: 'k' }));
      expect(rs.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(rs[3].retryAfterMs).toBeGreaterThan(500 - h.tolMs - 50);
      expect(rs[3].retryAfterMs).toBeLessThanOrEqual(500);
      await h.advance(520);
      expect((await h.rs.check('sw', { key: 'k' })).allowed).toBe(true);
    });

    it('does not record rejected attempts', async () => {
      const h = await setup({ sw: { algorithm: 'sliding_window', limit: 2, windowSeconds: 0.5 } });
      await h.rs.check('sw');
      await h.rs.check('sw');
      for (let i = 0; i < 5; i++) expect((await h.rs.check('sw')).allowed).toBe(false);
      await h.advance(520);
      const after = await Promise.all([1, 2, 3].map(() => h.rs.check('sw')));
      expect(after.filter((r) => r.allowed).length).toBe(2);
    });

    it('reserves a future slot for a waiting caller: exact wait, no polling', async () => {
      const h = await setup({ sw: { algorithm: 'sliding_window', limit: 2, windowSeconds: 0.4 } });
      const first = await h.rs.acquire('sw');
      await h.rs.acquire('sw');
      const waiting = h.rs.acquire('sw', { timeout: 2 });
      if (h.clock) await h.clock.advance(400);
      const permit = await waiting;
      // Its slot is the first admission's expiry, on the store's clock: it slept until then,
      // never less, and woke on time (not at a poll); the time its own call took to reach the
      // store is not part of the wait. Early by 2 ms at most: a timer may fire up to 1 ms before
      // its delay on the monotonic clock (libuv counts whole milliseconds), and this process's
      // clock reads whole milliseconds.
      const late = permit.result.now! - (first.result.now! + 400);
      expect(late).toBeGreaterThanOrEqual(-2);
      expect(late).toBeLessThanOrEqual(h.tolMs);
      expect(permit.result.waitedMs).toBeGreaterThan(0);
      if (h.clock) expect(permit.result.waitedMs).toBe(400);
    });

    it('charges cost entries', async () => {
      const { rs } = await setup({
        sw: { algorithm: 'sliding_window', limit: 5, windowSeconds: 10 },
      });
      expect((await rs.check('sw', { cost: 4 })).remaining).toBe(1);
      expect((await rs.check('sw', { cost: 2 })).allowed).toBe(false);
      expect((await rs.check('sw', { cost: 1 })).allowed).toBe(true);
    });
  });

  describe('concurrency', () => {
    it('3 of 10 parallel tries succeed at max_concurrent = 3', async () => {
      const { rs } = await setup({ c: { maxConcurrent: 3 } });
      const permits = await Promise.all(Array.from({ length: 10 }, () => rs.tryAcquire('c')));
      expect(permits.filter(Boolean).length).toBe(3);
      const rejected = await rs.check('c');
      expect(rejected).toMatchObject({ allowed: false, blockedBy: 'concurrency', remaining: 0 });
    });

    it('never exceeds max_concurrent = 5 with 50 waiting tasks', async () => {
      const h = await setup({ c: { maxConcurrent: 5 } });
      const rs = h.rs;
      let inFlight = 0;
      let peak = 0;
      await Promise.all(
        Array.from({ length: 50 }, () =>
          rs.run(
            'c',
            async () => {
              peak = Math.max(peak, ++inFlight);
              await new Promise((r) => setImmediate(r));
              inFlight--;
            },
            { timeout: 30 },
          ),
        ),
      );
      expect(peak).toBeLessThanOrEqual(5);
      if (h.clock) expect(peak).toBe(5); // deterministic in simulated time
      expect(rs.metrics('c')).toMatchObject({
        allowed: 50,
        rejected: 0,
        inFlight: 0,
        released: 50,
      });
    });

    it('wakes waiters on release, in arrival order, without waiting for lease expiry', async () => {
      const h = await setup({ c: { maxConcurrent: 1, leaseSeconds: 60 } });
      // A waiter's place is taken when its first attempt comes back rejected: open the store's
      // connections first, so that no attempt below waits for a new one (PostgreSQL's pool
      // opens them on demand) and the attempts come back in the order they were made.
      await Promise.all([1, 2, 3, 4].map(() => h.rs.check('c')));
      const holder = await h.rs.acquire('c');
      const order: string[] = [];
      const waiters: Promise<void>[] = [];
      for (const name of ['a', 'b', 'c']) {
        waiters.push(
          (async () => {
            const p = await h.rs.acquire('c', { timeout: 10 });
            order.push(name);
            await new Promise((r) => setTimeout(r, 5));
            await p.release();
          })(),
        );
        await h.stagger();
      }
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      await holder.release();
      await Promise.all(waiters);
      expect(order).toEqual(['a', 'b', 'c']);
      expect(performance.now() - t0).toBeLessThan(5000);
    });

    it('shares a slot among worker loops that release and ask again at once', async () => {
      const h = await setup({ c: { maxConcurrent: 1, leaseSeconds: 60 } });
      const done = [0, 0, 0];
      const total = (): number => done[0] + done[1] + done[2];
      const loop = async (n: number): Promise<void> => {
        while (total() < 45) {
          const p = await h.rs.acquire('c', { timeout: 10 });
          done[n]++;
          await new Promise((r) => setImmediate(r)); // the work
          await p.release();
        }
      };
      await Promise.all([0, 1, 2].map(loop));
      // Served in turn: a loop's own next call does not overtake the waiter its release woke
      // (when it did, on Redis, one loop kept the slot: 1 or 2 holds for each of the others).
      // A third of a fair share at least: a queued caller also asks once a slot is expected to
      // have freed, which may come first on a loaded machine.
      for (const n of done) expect(n).toBeGreaterThanOrEqual(5);
    });

    it('frees a slot when its lease expires (a crashed holder)', async () => {
      const h = await setup({ c: { maxConcurrent: 1, leaseSeconds: 0.3 } });
      // A holder that crashed: its lease is in the store, nobody renews or releases it.
      const limiter = h.rs.limiter('c');
      const [taken] = await limiter.store.engine.acquire([
        { ...limiter.request(limiter.keyOf(undefined), 1, 0, false), leaseId: 'crashed' },
      ]);
      expect(taken.allowed).toBe(true);
      expect(await h.rs.tryAcquire('c')).toBeNull();
      await h.advance(350);
      expect(await h.rs.tryAcquire('c')).not.toBeNull();
    });

    it('treats a second release, and a release after reset, as no-ops', async () => {
      const { rs } = await setup({ c: { maxConcurrent: 1 } });
      const p1 = await rs.acquire('c');
      await p1.release();
      await p1.release();
      const p2 = (await rs.tryAcquire('c')) as Permit;
      expect(p2).not.toBeNull();
      await rs.reset('c');
      const p3 = (await rs.tryAcquire('c')) as Permit;
      expect(p3).not.toBeNull();
      await p2.release();
      expect(await rs.tryAcquire('c')).toBeNull();
      await p3.release();
      expect(await rs.tryAcquire('c')).not.toBeNull();
    });

    it("estimates a rejection's retry delay from hold times, not the lease length", async () => {
      const h = await setup({ c: { maxConcurrent: 1, leaseSeconds: 60 } });
      const first = await h.rs.acquire('c');
      await h.advance(300);
      await first.release(); // this process saw a slot held for about 300 ms
      const holder = await h.rs.acquire('c');
      const rejected = await h.rs.check('c');
      expect(rejected).toMatchObject({ allowed: false, blockedBy: 'concurrency' });
      expect(rejected.retryAfterMs).toBeGreaterThanOrEqual(300 - h.tolMs);
      expect(rejected.retryAfterMs).toBeLessThan(300 + 4 * h.tolMs + 50);
      await holder.release();
    });
  });

  describe('combined (rate and concurrency)', () => {
    it('a rejection for concurrency consumes no rate', async () => {
      const { rs } = await setup({ both: { ratePerSecond: 0.1, burst: 2, maxConcurrent: 1 } });
      const p = await rs.acquire('both');
      for (let i = 0; i < 3; i++) {
        expect(await rs.check('both')).toMatchObject({ allowed: false, blockedBy: 'concurrency' });
      }
      await p.release();
      const second = await rs.tryAcquire('both');
      expect(second).not.toBeNull();
      await second?.release();
      expect(await rs.check('both')).toMatchObject({ allowed: false, blockedBy: 'rate' });
    });

    it('sliding window with max_concurrent', async () => {
      const { rs } = await setup({
        w: { algorithm: 'sliding_window', limit: 2, windowSeconds: 10, maxConcurrent: 1 },
      });
      const p = await rs.acquire('w');
      expect((await rs.check('w')).blockedBy).toBe('concurrency');
      await p.release();
      expect((await rs.check('w')).allowed).toBe(true);
      expect(await rs.check('w')).toMatchObject({ allowed: false, blockedBy: 'rate' });
    });
  });

  describe('reading and resetting', () => {
    it('state consumes nothing', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1, burst: 3 }, c: { maxConcurrent: 2 } });
      for (let i = 0; i < 5; i++)
        expect(await rs.state('tb', 'k')).toMatchObject({ remaining: 3, limit: 3 });
      const rs3 = await Promise.all([1, 2, 3].map(() => rs.check('tb', { key: 'k' })));
      expect(rs3.every((r) => r.allowed)).toBe(true);
      expect((await rs.state('tb', 'k')).remaining).toBe(0);
      const p = await rs.acquire('c');
      expect(await rs.state('c')).toMatchObject({ inFlight: 1, remaining: 1 });
      await p.release();
      expect(await rs.state('c')).toMatchObject({ inFlight: 0, remaining: 2 });
    });

    it('check with consume: false consumes nothing', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1 } });
      for (let i = 0; i < 3; i++) {
        expect(await rs.check('tb', { consume: false })).toMatchObject({
          allowed: true,
          remaining: 1,
        });
      }
      expect((await rs.check('tb')).allowed).toBe(true);
      expect((await rs.check('tb', { consume: false })).allowed).toBe(false);
    });

    it('reset frees everything, for one key or the whole limiter', async () => {
      const { rs } = await setup({
        sw: { algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
      });
      for (const key of ['a', 'b', 'c']) await rs.check('sw', { key });
      await rs.reset('sw', 'a');
      expect((await rs.check('sw', { key: 'a' })).allowed).toBe(true);
      expect((await rs.check('sw', { key: 'b' })).allowed).toBe(false);
      await rs.reset('sw');
      expect((await rs.check('sw', { key: 'b' })).allowed).toBe(true);
      expect((await rs.check('sw', { key: 'c' })).allowed).toBe(true);
    });
  });

  describe('composite', () => {
    it('checkAll counts each layer under its own key, all or nothing', async () => {
      const { rs } = await setup({
        per_ip: { algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
        per_account: { algorithm: 'sliding_window', limit: 2, windowSeconds: 60 },
      });
      const login = (ip: string, account: string) =>
        rs.checkAll(['per_ip', 'per_account'], { keys: { per_ip: ip, per_account: account } });
      expect((await login('10.0.0.1', 'ann')).allowed).toBe(true);
      expect((await login('10.0.0.2', 'ann')).allowed).toBe(true);
      const third = await login('10.0.0.3', 'ann');
      expect(third).toMatchObject({ allowed: false, blockingLimiterId: 'per_account' });
      expect((await rs.state('per_ip', '10.0.0.3')).remaining).toBe(5); // nothing charged
      expect((await rs.state('per_ip', '10.0.0.1')).remaining).toBe(4);
      expect((await login('10.0.0.1', 'bob')).allowed).toBe(true);
      await expect(
        rs.checkAll(['per_ip', 'per_account'], { keys: { per_acount: 'x' } }),
      ).rejects.toThrow(/'per_acount' is not one of the limiters checked/);
    });

    it('consumes nothing unless every layer allows, and names the blocking layer', async () => {
      const { rs } = await setup({
        wide: { algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
        narrow: { algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
      });
      expect((await rs.checkAll(['wide', 'narrow'], { key: 'u' })).allowed).toBe(true);
      const blocked = await rs.checkAll(['wide', 'narrow'], { key: 'u' });
      expect(blocked).toMatchObject({ allowed: false, blockingLimiterId: 'narrow', remaining: 0 });
      expect((await rs.state('wide', 'u')).remaining).toBe(4);
    });

    it('any_must_pass consumes the first layer that allows', async () => {
      const { rs } = await setup({
        a: { algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
        b: { algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
      });
      const strategy = 'any_must_pass' as const;
      expect((await rs.checkAll(['a', 'b'], { strategy })).allowed).toBe(true);
      expect((await rs.checkAll(['a', 'b'], { strategy })).allowed).toBe(true);
      expect((await rs.checkAll(['a', 'b'], { strategy })).allowed).toBe(false);
    });
  });

  describe('bookkeeping', () => {
    it('metrics count what happened', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1 } });
      await rs.check('tb');
      await rs.check('tb');
      await rs.tryAcquire('tb');
      expect(rs.metrics('tb')).toMatchObject({
        attempts: 3,
        allowed: 1,
        rejected: 2,
        storeErrors: 0,
      });
    });

    it('an unknown limiter is a typed error listing the known ids', async () => {
      const { rs } = await setup({ tb: { ratePerSecond: 1 } });
      await expect(rs.check('nope')).rejects.toBeInstanceOf(LimiterNotFoundError);
      await expect(rs.check('nope')).rejects.toThrow(/'tb'/);
    });
  });
}
