import Redis from 'ioredis';
import { layerKeys, type RedisEngine } from '../../lib/core/engines/redis';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { describeRedis, redisUrl } from '../support/redis';
import { dropPrefix, openEngine, req } from './engine-fixture';

/**
 * A sliding-window admission of any cost is one ZSET member carrying its weight: one call
 * cannot freeze Redis with a loop of ZADDs (a cost of 200,000 took 0.6 s when each unit was a
 * member), and the window stays exact.
 */
describeRedis('RedisEngine: weighted sliding-window entries', () => {
  let raw: Redis;
  let engine: RedisEngine;
  let prefix: string;
  beforeAll(() => {
    raw = new Redis(redisUrl());
  });
  beforeEach(async () => {
    ({ engine, prefix } = await openEngine());
  });
  afterEach(async () => {
    await engine.close();
    await dropPrefix(prefix);
  });
  afterAll(() => raw.disconnect());

  const big = toPolicy('bulk', {
    store: 's',
    algorithm: 'sliding_window',
    limit: 1_000_000,
    windowSeconds: 60,
  });
  const key = storageKey('bulk', 'u');
  /** Admissions recorded (the member '#' holding the total weight aside). */
  const members = () => raw.zcount(layerKeys(prefix, key).window, 0, '+inf');

  it('records a cost of 200000 as one member, and counts it exactly afterwards', async () => {
    const [first] = await engine.acquire([req(big, key, { cost: 200_000 })]);
    expect(first).toMatchObject({ allowed: true, remaining: 800_000 });
    expect(await members()).toBe(1);

    const [over] = await engine.acquire([req(big, key, { cost: 800_001 })]);
    expect(over.allowed).toBe(false);
    // Room only once the 200,000 leave the window, about 60 s from now.
    expect(over.retryAfterMs).toBeGreaterThan(59_000);
    expect(over.retryAfterMs).toBeLessThanOrEqual(60_000);

    const [rest] = await engine.acquire([req(big, key, { cost: 800_000 })]);
    expect(rest).toMatchObject({ allowed: true, remaining: 0 });
    const [one] = await engine.acquire([req(big, key)]);
    expect(one.allowed).toBe(false);
    expect(await members()).toBe(2);
  });

  it('counts members written one per unit (before weights) as weight 1 each', async () => {
    const small = toPolicy('small', {
      store: 's',
      algorithm: 'sliding_window',
      limit: 3,
      windowSeconds: 60,
    });
    const k = storageKey('small', 'u');
    const [seconds] = await raw.time();
    const at = String(Number(seconds) * 1000);
    await raw.zadd(layerKeys(prefix, k).window, at, 'oldtok:1:1', at, 'oldtok:1:2');
    const [d] = await engine.acquire([req(small, k)]);
    expect(d).toMatchObject({ allowed: true, remaining: 0 });
    expect((await engine.acquire([req(small, k)]))[0].allowed).toBe(false);
  });
});
