import { join } from 'node:path';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { buildCore } from './build-core';
import { dropPrefix } from './engine-fixture';
import { JsonChild } from './child';

/**
 * DESIGN 3 across processes, on each Redis driver: 4 Node processes x 64 acquisitions in flight on one key, through
 * the RateSync facade over the Redis engine. Checks the limits with measurements that do not
 * trust the limiter: server admission instants for the window, client time bounds for the
 * bucket, and an atomic Redis counter around the critical section for concurrency.
 */
const PROCS = 4;
const INFLIGHT = 64;
const DURATION_MS = 2000;

const LIMITERS = {
  win: { store: 'r', algorithm: 'sliding_window', limit: 40, windowSeconds: 0.5 },
  tb: { store: 'r', ratePerSecond: 200, burst: 10 },
  cc: { store: 'r', maxConcurrent: 5, leaseSeconds: 10 },
};

describeRedis('redis across processes', () => {
  describe.each(['ioredis', 'node-redis'] as const)('driver %s', (driver) => suite(driver));
});

function suite(driver: 'ioredis' | 'node-redis'): void {
  const prefix = uniquePrefix('xproc');
  let children: JsonChild[] = [];

  beforeAll(async () => {
    const core = buildCore();
    const config = JSON.stringify({ url: redisUrl(), prefix, limiters: LIMITERS, driver });
    children = Array.from(
      { length: PROCS },
      () => new JsonChild(join(__dirname, 'children/load-worker.js'), [core, config]),
    );
    await Promise.all(children.map((c) => c.next()));
  }, 30_000);

  afterAll(async () => {
    for (const c of children) c.send({ exit: true });
    await Promise.all(children.map((c) => c.stop()));
    await dropPrefix(prefix); // the in-flight counter has no TTL
  });

  async function runAll<T>(cmd: Record<string, unknown>): Promise<T[]> {
    for (const c of children) c.send({ ...cmd, durationMs: DURATION_MS, inflight: INFLIGHT });
    return Promise.all(children.map((c) => c.next<T>()));
  }

  it('a sliding window never admits more than limit in any window', async () => {
    const windowMs = LIMITERS.win.windowSeconds * 1000;
    const out = await runAll<{ admitted: number[]; rejected: number }>({
      scenario: 'window',
      limiter: 'win',
      windowMs,
    });
    const times = out.flatMap((o) => o.admitted).sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[j] <= times[i] - windowMs) j++;
      worst = Math.max(worst, i - j + 1);
    }
    const rejected = out.reduce((s, o) => s + o.rejected, 0);
    console.log(
      `window: ${times.length} admitted, ${rejected} rejected, at most ${worst} in any ${windowMs} ms window (limit ${LIMITERS.win.limit})`,
    );
    expect(worst).toBeLessThanOrEqual(LIMITERS.win.limit);
    expect(worst).toBe(LIMITERS.win.limit); // the load did fill windows
    expect(times.length).toBeGreaterThanOrEqual(LIMITERS.win.limit * (DURATION_MS / windowMs - 1));
  });

  it('a token bucket admits no more than burst + rate * elapsed', async () => {
    const out = await runAll<{ admitted: number[]; rejected: number; start: number }>({
      scenario: 'bucket',
      limiter: 'tb',
    });
    const start = Math.min(...out.map((o) => o.start));
    const times = out.flatMap((o) => o.admitted);
    const elapsedS = (Math.max(...times) - start + 1) / 1000;
    const bound = LIMITERS.tb.burst + LIMITERS.tb.ratePerSecond * elapsedS;
    const rejected = out.reduce((s, o) => s + o.rejected, 0);
    console.log(
      `bucket: ${times.length} admitted in ${elapsedS.toFixed(3)} s (bound ${bound.toFixed(1)}, ${(times.length / elapsedS).toFixed(1)}/s), ${rejected} rejected`,
    );
    expect(times.length).toBeLessThanOrEqual(bound);
    expect(times.length).toBeGreaterThan(0.9 * LIMITERS.tb.ratePerSecond * elapsedS);
  });

  it('max_concurrent is never exceeded (true in-flight count)', async () => {
    const counterKey = `${prefix}:inflight`;
    const out = await runAll<{ admitted: number; rejected: number; maxInFlight: number }>({
      scenario: 'concurrency',
      limiter: 'cc',
      holdMs: 5,
      counterKey,
    });
    const admitted = out.reduce((s, o) => s + o.admitted, 0);
    const rejected = out.reduce((s, o) => s + o.rejected, 0);
    const max = Math.max(...out.map((o) => o.maxInFlight));
    console.log(
      `concurrency: ${admitted} admitted, ${rejected} timed out, max ${max} in flight (max_concurrent ${LIMITERS.cc.maxConcurrent})`,
    );
    expect(max).toBeLessThanOrEqual(LIMITERS.cc.maxConcurrent);
    expect(max).toBe(LIMITERS.cc.maxConcurrent);
    expect(admitted).toBeGreaterThan(100);
  });
}
