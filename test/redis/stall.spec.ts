import { RateSync } from '../../lib/core';
import { describeRedisBinaries } from '../support/redis';
import { PrivateStore } from './private-store';
import type { RedisServer } from './redis-server';

/**
 * A frozen Redis (SIGSTOP) and the leases of calls that gave up on it. The acquire commands
 * that timed out on the client still run when Redis resumes, each creating a lease that no
 * caller holds; the engine gives them back, so the slots are free about one round trip after
 * Redis answers again rather than after lease_seconds. Real time passes on purpose: the subject
 * is a stalled server.
 */
const SOCKET_TIMEOUT_S = 0.2;
const MAX = 3;
const LEASE_S = 60;

describeRedisBinaries('redis stall: no ghost leases', () => {
  const store = new PrivateStore();
  const logger = store.logger;
  let server: RedisServer;
  let rs: RateSync;

  beforeAll(async () => {
    rs = await store.open(
      [16600, 16700],
      { socketTimeout: SOCKET_TIMEOUT_S, breakerCooldown: 0.05 },
      {
        slots: { maxConcurrent: MAX, leaseSeconds: LEASE_S },
        both: { maxConcurrent: MAX, leaseSeconds: LEASE_S, ratePerSecond: 1000, burst: 100 },
      },
    );
    server = store.server;
  }, 30_000);

  afterAll(() => store.close());

  /** Freezes Redis, runs `during` (which must time out), thaws it and waits for a PING. */
  const stall = async (during: () => Promise<unknown>): Promise<void> => {
    server.pause(true);
    try {
      await during();
      // The freeze goes on (the give-backs time out too and are sent again), past the breaker's
      // cool-down: the next decision goes to Redis.
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      server.pause(false);
    }
    expect(server.cli('ping').trim()).toBe('PONG');
    // And the engine's own connection answers again (on a loaded machine its reconnection can
    // take a while after the thaw; until then decisions fail open and count nothing).
    const start = performance.now();
    while (performance.now() - start < 5000) {
      if (!(await rs.check('slots', { key: 'probe' })).failedOpen) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the engine did not answer within 5 s of the thaw');
  };

  /** Acquires the limiter's `MAX` slots one after another: how many the store granted. */
  const granted = async (limiterId: string, key: string): Promise<number> => {
    let n = 0;
    for (let i = 0; i < MAX; i++) {
      const permit = await rs.tryAcquire(limiterId, { key });
      if (permit && !permit.result.failedOpen) n++;
    }
    return n;
  };

  it.each(['slots', 'both'])(
    '%s: acquisitions that timed out during a freeze leave no slot taken',
    async (limiterId) => {
      const key = `k-${limiterId}`;
      await stall(async () => {
        const permits = await Promise.all(
          Array.from({ length: MAX }, () => rs.tryAcquire(limiterId, { key })),
        );
        // Each call timed out and was admitted without counting (fail-open).
        expect(permits.every((p) => p?.result.failedOpen)).toBe(true);
      });
      expect(await granted(limiterId, key)).toBe(MAX);
    },
    15_000,
  );

  it('a composite acquisition that timed out during a freeze leaves no slot taken', async () => {
    await stall(async () => {
      const outcome = await rs.checkAll(['slots', 'both'], { key: 'composite' });
      expect(outcome.allowed).toBe(true);
    });
    expect(await granted('slots', 'composite')).toBe(MAX);
    expect(await granted('both', 'composite')).toBe(MAX);
  }, 15_000);

  it('a release that failed on a dropped connection is given back once Redis answers', async () => {
    const key = 'dropped';
    const permits = await Promise.all(
      Array.from({ length: MAX }, () => rs.acquire('slots', { key, timeout: 0 })),
    );
    expect(permits.every((p) => !p.result.failedOpen)).toBe(true);
    // Drops the engine's connection (Redis itself stays up), then releases while it reconnects.
    expect(server.cli('client', 'kill', 'type', 'normal').trim()).not.toBe('0');
    await Promise.all(permits.map((p) => p.release()));
    expect(logger.lines.join('\n')).toMatch(/releasing a lease of 'slots' failed/);
    const start = performance.now();
    let inFlight: number | undefined = MAX;
    while (inFlight !== 0 && performance.now() - start < 3000) {
      await new Promise((r) => setTimeout(r, 50));
      inFlight = await rs.state('slots', key).then(
        (s) => s.inFlight,
        () => MAX, // not reconnected yet
      );
    }
    console.log(
      `stall: released leases given back ${Math.round(performance.now() - start)} ms after a dropped connection`,
    );
    expect(inFlight).toBe(0);
  }, 15_000);
});
