import Redis from 'ioredis';
import { RateSyncError } from '../../lib/core/errors';
import { systemClock } from '../../lib/core/clock';
import { layerKeys, RedisEngine } from '../../lib/core/engines/redis';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { MemoLogger, openEngine, req } from './engine-fixture';
import { sparePort } from './redis-server';

/** The Redis engine on the real server clock: TTLs, leases, pub/sub, reset, errors, lifecycle. */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeRedis('RedisEngine on a real server', () => {
  let raw: Redis;
  const engines: RedisEngine[] = [];
  const open = async (options: Parameters<typeof openEngine>[0] = {}) => {
    const o = await openEngine(options);
    engines.push(o.engine);
    return o;
  };
  beforeAll(() => {
    raw = new Redis(redisUrl());
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  afterAll(() => raw.disconnect());

  const keysOf = async (prefix: string): Promise<string[]> =>
    (await raw.keys(`${prefix}:*`)).sort();

  it('decides on the server clock: burst, retry-after, reservation', async () => {
    const { engine } = await open();
    // One token a second: the calls below would have to take half a second for one to come
    // back meanwhile (the engine reports a reservation's wait; it does not sleep).
    const tb = toPolicy('tb', { store: 's', ratePerSecond: 1, burst: 3 });
    const ds = [];
    for (let i = 0; i < 4; i++) ds.push((await engine.acquire([req(tb, 'tb')]))[0]);
    expect(ds.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(ds[3].retryAfterMs).toBeGreaterThan(500);
    expect(ds[3].retryAfterMs).toBeLessThanOrEqual(1000);
    const waited = (await engine.acquire([req(tb, 'tb', { maxWaitMs: 2000 })]))[0];
    expect(waited.allowed).toBe(true);
    expect(waited.waitMs).toBeGreaterThan(500);
    expect(waited.waitMs).toBeLessThanOrEqual(1000);
    expect(Math.abs(ds[0].resetAt - Date.now() - 1000)).toBeLessThan(500);
  });

  it('gives every key it writes a TTL, and a dry run writes nothing', async () => {
    const { engine, prefix } = await open();
    const p = toPolicy('all', { store: 's', ratePerSecond: 5, maxConcurrent: 2, leaseSeconds: 3 });
    const w = toPolicy('w', {
      store: 's',
      algorithm: 'sliding_window',
      limit: 3,
      windowSeconds: 2,
    });
    await engine.acquire([req(p, 'all', { dryRun: true }), req(w, 'w')]);
    expect(await keysOf(prefix)).toEqual([]);
    await engine.acquire([req(p, 'all', { leaseId: 'L' }), req(w, 'w')]);
    const keys = await keysOf(prefix);
    expect(keys).toEqual([
      layerKeys(prefix, 'all').leases,
      layerKeys(prefix, 'all').tat,
      layerKeys(prefix, 'w').window,
    ]);
    const ttls = await Promise.all(keys.map((k) => raw.pttl(k)));
    expect(ttls[0]).toBeGreaterThan(2500); // lease: 3 s
    expect(ttls[0]).toBeLessThanOrEqual(3000);
    expect(ttls[1]).toBeGreaterThan(0); // tat: 200 ms ahead
    expect(ttls[1]).toBeLessThanOrEqual(200);
    expect(ttls[2]).toBeGreaterThan(1500); // window: 2 s
    expect(ttls[2]).toBeLessThanOrEqual(2000);
  });

  it('renews live leases and extends the TTL, but never revives an expired lease', async () => {
    const { engine, prefix } = await open();
    const c = toPolicy('c', { store: 's', maxConcurrent: 1, leaseSeconds: 0.3 });
    expect((await engine.acquire([req(c, 'c', { leaseId: 'a' })]))[0].allowed).toBe(true);
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      await engine.renew(c, 'c', ['a', 'unknown']);
    }
    expect((await engine.acquire([req(c, 'c', { leaseId: 'b' })]))[0].allowed).toBe(false);
    expect(await raw.pttl(layerKeys(prefix, 'c').leases)).toBeGreaterThan(100);
    await sleep(400); // 'a' expires
    expect((await engine.acquire([req(c, 'c', { leaseId: 'b' })]))[0].allowed).toBe(true);
    await engine.renew(c, 'c', ['a']);
    const probe = (await engine.acquire([req(c, 'c', { dryRun: true })]))[0];
    expect(probe.inFlight).toBe(1);
  });

  it('releases idempotently and notifies every client once per release', async () => {
    const prefix = uniquePrefix();
    const { engine: a } = await open({ keyPrefix: prefix });
    const { engine: b } = await open({ keyPrefix: prefix });
    const c = toPolicy('c', { store: 's', maxConcurrent: 2 });
    const key = storageKey('c', 'job');
    const calls: (boolean | undefined)[] = [];
    const off1 = b.onRelease(c, key, (missed) => calls.push(missed));
    const off2 = b.onRelease(c, key, (missed) => calls.push(missed));
    await sleep(150);
    const channel = layerKeys(prefix, key).channel;
    expect(await raw.pubsub('NUMSUB', channel)).toEqual([channel, 1]); // one SUBSCRIBE for both
    // Each listener's catch-up call once subscribed: releases before it went unheard.
    expect(calls).toEqual([true, true]);
    await a.acquire([req(c, key, { leaseId: 'L' })]);
    await a.release(c, key, 'L');
    await a.release(c, key, 'L');
    await a.release(c, key, 'never-existed');
    await sleep(150);
    expect(calls).toEqual([true, true, false, false]);
    off1();
    off1();
    expect(await raw.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    off2();
    await sleep(100);
    expect(await raw.pubsub('NUMSUB', channel)).toEqual([channel, 0]);
  });

  it('resets one key, or every key of one limiter (SCAN, glob characters in the prefix)', async () => {
    const prefix = `${uniquePrefix()}*?[x]`;
    const { engine } = await open({ keyPrefix: prefix });
    const api = toPolicy('api', { store: 's', ratePerSecond: 0.01 });
    const api2 = toPolicy('api2', { store: 's', ratePerSecond: 0.01 });
    for (const k of ['api', 'api:u1', 'api:u2']) await engine.acquire([req(api, k)]);
    await engine.acquire([req(api2, 'api2:u1')]);
    await engine.reset(api, 'api:u1');
    expect((await engine.acquire([req(api, 'api:u1', { dryRun: true })]))[0].remaining).toBe(1);
    expect((await engine.acquire([req(api, 'api:u2', { dryRun: true })]))[0].remaining).toBe(0);
    await engine.reset(api);
    expect(await raw.keys(`${prefix.replace(/[*?[\]]/g, '\\$&')}:*`)).toEqual([
      layerKeys(prefix, 'api2:u1').tat,
    ]);
  });

  it('runs again after SCRIPT FLUSH (NOSCRIPT falls back to EVAL)', async () => {
    const { engine } = await open();
    const tb = toPolicy('tb', { store: 's', ratePerSecond: 0.01 });
    await raw.script('FLUSH');
    expect((await engine.acquire([req(tb, 'tb')]))[0].allowed).toBe(true);
    expect((await engine.acquire([req(tb, 'tb')]))[0].allowed).toBe(false);
  });

  it('does not reopen after close(): connect() and calls reject, naming the store', async () => {
    const { engine } = await open();
    const tb = toPolicy('tb', { store: 's', ratePerSecond: 10 });
    expect((await engine.acquire([req(tb, 'k')]))[0].allowed).toBe(true);
    await engine.close();
    const closed = /Store 'test': connect\(\) called after the redis engine was closed/;
    await expect(engine.connect()).rejects.toThrow(closed);
    await expect(engine.acquire([req(tb, 'k')])).rejects.toThrow(RateSyncError);
  });

  it('rejects a key_prefix with braces and a malformed URL, without echoing secrets', () => {
    const ctx = (options: object) => ({
      storeId: 's',
      options: { engine: 'redis' as const, ...options },
      clock: systemClock,
      logger: new MemoLogger(),
    });
    expect(() => new RedisEngine(ctx({ keyPrefix: 'a{b}' }))).toThrow(/key_prefix/);
    let message = '';
    try {
      new RedisEngine(ctx({ url: 'redis://:s3cr3t-pw@host:notaport' }));
    } catch (err) {
      message = String((err as Error).message);
    }
    expect(message).toMatch(/stores\.s\.url/);
    expect(message).not.toContain('s3cr3t-pw');
  });
});

describe.each(['ioredis', 'node-redis'] as const)(
  'RedisEngine: Redis unreachable (%s)',
  (driver) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    beforeAll(() => process.on('unhandledRejection', onUnhandled));
    afterAll(() => process.off('unhandledRejection', onUnhandled));

    it('fails promptly and clearly, and closes without leftovers', async () => {
      const port = await sparePort(41000, 41999);
      const logger = new MemoLogger();
      const engine = new RedisEngine({
        storeId: 'down',
        options: {
          engine: 'redis',
          driver,
          url: `redis://:s3cr3t-pw@127.0.0.1:${port}/2`,
          socketTimeout: 0.5,
        },
        clock: systemClock,
        logger,
      });
      let t0 = performance.now();
      const err = await engine.connect().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(err).toBeInstanceOf(RateSyncError);
      expect(err!.message).toMatch(
        new RegExp(
          `Store 'down': cannot connect to Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}/2: .*ECONNREFUSED`,
        ),
      );
      expect(err!.message).not.toContain('s3cr3t-pw');
      t0 = performance.now();
      const tb = toPolicy('tb', { store: 's', ratePerSecond: 1 });
      const failures = await Promise.all(
        [
          engine.acquire([req(tb, 'tb')]),
          engine.release(tb, 'tb', 'x'),
          engine.renew(toPolicy('c', { store: 's', maxConcurrent: 1 }), 'c', ['x']),
          engine.reset(tb),
          engine.ping(),
        ].map((p) =>
          p.then(
            () => 'resolved',
            (e: Error) => e.message,
          ),
        ),
      );
      expect(performance.now() - t0).toBeLessThan(500);
      for (const f of failures) expect(f).toMatch(/^Store 'down' \(redis\) \w+ failed/);
      const off = engine.onRelease(tb, 'tb', () => undefined);
      off();
      await engine.close();
      await engine.close();
      expect(logger.lines.join('\n')).not.toContain('s3cr3t-pw');
      await sleep(50);
      expect(unhandled).toEqual([]);
    });
  },
);
