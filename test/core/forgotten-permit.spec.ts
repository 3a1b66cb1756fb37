import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock, RateSync } from '../../lib/core';
import { loadConfig } from '../../lib/core/config';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `condition` holds (finalizers run on a later turn). */
async function collectUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !condition(); i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a permit that is never released', () => {
  it('gives its slot back when it is garbage-collected, with a warning naming the limiter', async () => {
    const warnings: string[] = [];
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: { uploads: { store: 's', maxConcurrent: 1, leaseSeconds: 60 } },
      },
      {
        clock: new ManualClock(),
        logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
      },
    );
    await rs.connect();
    // Acquired in a scope that drops it without release().
    await (async () => {
      const forgotten = await rs.acquire('uploads');
      expect(forgotten.result.allowed).toBe(true);
    })();
    expect(await rs.tryAcquire('uploads')).toBeNull();
    await collectUntil(() => rs.metrics('uploads').inFlight === 0);
    expect(rs.metrics('uploads').inFlight).toBe(0);
    expect(await rs.tryAcquire('uploads')).not.toBeNull();
    expect(warnings.join('\n')).toMatch(/permit of 'uploads' was garbage-collected/);
    await rs.close();
  });

  it('a permit still referenced keeps its slot through collections', async () => {
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: { uploads: { store: 's', maxConcurrent: 1 } },
      },
      { clock: new ManualClock() },
    );
    const kept = await rs.acquire('uploads');
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await rs.tryAcquire('uploads')).toBeNull();
    await kept.release();
    expect(await rs.tryAcquire('uploads')).not.toBeNull();
    await rs.close();
  });
});

describe('max_hold_seconds', () => {
  it('takes a slot back from a permit held too long, with a warning naming the limiter', async () => {
    const warnings: string[] = [];
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: {
          jobs: { store: 's', maxConcurrent: 1, leaseSeconds: 30, maxHoldSeconds: 0.1 },
        },
      },
      { logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined } },
    );
    await rs.connect();
    const hung = await rs.acquire('jobs');
    expect(await rs.tryAcquire('jobs')).toBeNull();
    // Real time is the subject here: the bound is checked on the renewal timer.
    const next = await rs.acquire('jobs', { timeout: 1 });
    expect(next.result.allowed).toBe(true);
    expect(warnings.join('\n')).toMatch(/'jobs' was held longer than max_hold_seconds \(0.1 s\)/);
    await hung.release(); // a no-op now
    expect(await rs.tryAcquire('jobs')).toBeNull(); // `next` still holds the only slot
    await next.release();
    await rs.close();
  });

  it('is validated: positive, and only with max_concurrent', () => {
    expect(() =>
      loadConfig({
        configFile: false,
        stores: { s: { engine: 'memory' } },
        limiters: { x: { store: 's', ratePerSecond: 1, maxHoldSeconds: 5 } },
      }),
    ).toThrow(/limiters.x.maxHoldSeconds: maxHoldSeconds applies only with maxConcurrent/);
    expect(() =>
      loadConfig({
        configFile: false,
        stores: { s: { engine: 'memory' } },
        limiters: { x: { store: 's', maxConcurrent: 1, maxHoldSeconds: 0 } },
      }),
    ).toThrow(/limiters.x.maxHoldSeconds: expected a number > 0/);
  });
});
