import { createClient, createCluster } from 'redis';
import Redis from 'ioredis';
import {
  RateSync,
  StoreSetupError,
  StoreUnavailableError,
  type LimiterOptions,
} from '../../lib/core';
import { ConfigValidationError } from '../../lib/core/errors';
import { validateConfig } from '../../lib/core/config/validate';
import { describeRedis, describeRedisBinaries, redisUrl, uniquePrefix } from '../support/redis';
import { MemoLogger } from './engine-fixture';
import { RedisServer, sparePort } from './redis-server';

/**
 * The node-redis driver (`driver = "node-redis"`, or a node-redis client given in code): what
 * the contract suite cannot show. Outages fail fast as configured, with no unhandled
 * rejection; a given client is used, left open, and gets a subscriber of its own; the
 * combinations it does not support are refused at validation, naming the field.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The store's id, unique: connection names (`rate-sync:<id>`) are checked on a shared server. */
const STORE = uniquePrefix('nr');

function rateSync(
  store: Record<string, unknown>,
  limiters: Record<string, Omit<LimiterOptions, 'store'>>,
  logger = new MemoLogger(),
): RateSync {
  return new RateSync(
    {
      stores: { [STORE]: { engine: 'redis', keyPrefix: uniquePrefix('nr'), ...store } },
      limiters: Object.fromEntries(
        Object.entries(limiters).map(([id, l]) => [id, { ...l, store: STORE }]),
      ),
    },
    { logger },
  );
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));

describe('node-redis driver: validation', () => {
  const problems = (store: Record<string, unknown>): string[] => {
    try {
      validateConfig({ data: { stores: { s: store } }, spelling: 'snake' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigValidationError);
      return (err as ConfigValidationError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };

  it('accepts the two drivers and names the field for anything else', () => {
    expect(problems({ engine: 'redis', url: 'redis://h', driver: 'node-redis' })).toEqual([]);
    expect(problems({ engine: 'redis', url: 'redis://h', driver: 'ioredis' })).toEqual([]);
    expect(problems({ engine: 'redis', url: 'redis://h', driver: 'redis' })).toEqual([
      'stores.s.driver: expected one of "ioredis", "node-redis", got "redis"',
    ]);
    expect(problems({ engine: 'memory', driver: 'node-redis' })).toEqual([
      'stores.s.driver: applies only to redis stores, and this store\'s engine is "memory"',
    ]);
  });

  it('accepts node-redis with cluster_nodes, and refuses it with sentinels', () => {
    expect(
      problems({ engine: 'redis', driver: 'node-redis', cluster_nodes: ['127.0.0.1:7000'] }),
    ).toEqual([]);
    expect(
      problems({
        engine: 'redis',
        driver: 'node-redis',
        sentinels: ['127.0.0.1:26379'],
        sentinel_name: 'm',
      }),
    ).toEqual([
      'stores.s.driver: "node-redis" does not connect through Sentinels here, and sentinels is ' +
        'given; use driver = "ioredis" (the default) for Sentinel, or give url',
    ]);
  });
});

describeRedisBinaries('node-redis driver: Redis killed and frozen', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = new RedisServer(await sparePort(42000, 42999));
    await server.start();
  }, 30_000);
  afterAll(() => server?.dispose());

  it('fails open or closed as configured, within the socket timeout, then recovers', async () => {
    const rs = rateSync(
      { driver: 'node-redis', url: `redis://127.0.0.1:${server.port}`, socketTimeout: 0.3 },
      {
        open: { ratePerSecond: 1000 },
        closed: { ratePerSecond: 1000, failClosed: true },
      },
    );
    await rs.connect();
    expect((await rs.check('open', { key: 'k' })).allowed).toBe(true);
    const outcome = async (limiter: string): Promise<[string, number]> => {
      const t0 = performance.now();
      const r = await rs.check(limiter, { key: 'k' }).then(
        (d) => (d.allowed ? 'allowed' : 'denied'),
        (e: Error) => (e instanceof StoreUnavailableError ? 'unavailable' : e.message),
      );
      return [r, performance.now() - t0];
    };

    server.pause(true); // frozen: the command is sent and never answered
    const frozen = await Promise.all([outcome('open'), outcome('closed')]);
    server.pause(false);
    expect(frozen.map((o) => o[0])).toEqual(['allowed', 'unavailable']);
    for (const [, ms] of frozen) expect(ms).toBeLessThan(1500);

    await server.stop('SIGKILL'); // down: refused at once
    await sleep(100);
    const down = await Promise.all([outcome('open'), outcome('closed')]);
    expect(down.map((o) => o[0])).toEqual(['allowed', 'unavailable']);
    for (const [, ms] of down) expect(ms).toBeLessThan(1500);

    await server.start();
    let back = false;
    for (let i = 0; i < 50 && !back; i++) {
      await sleep(200);
      back = (await outcome('closed'))[0] === 'allowed';
    }
    expect(back).toBe(true);
    await rs.close();
    await sleep(50);
    expect(unhandled).toEqual([]);
  }, 30_000);
});

describeRedis('node-redis driver: a client given in code', () => {
  const names = async (): Promise<string[]> => {
    const raw = new Redis(redisUrl());
    try {
      return String(await raw.client('LIST'))
        .split('\n')
        .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '');
    } finally {
      raw.disconnect();
    }
  };

  it('decides on it, wakes waiters through a subscriber of its own, and leaves it open', async () => {
    // node-redis' defaults (RESP3), as an application would create it.
    const client = createClient({ url: redisUrl(), name: `app-${uniquePrefix()}` });
    client.on('error', () => undefined);
    await client.connect();
    const listeners = (): number[] =>
      ['error', 'ready', 'end', 'terminated'].map((e) => client.listenerCount(e));
    const before = listeners();
    try {
      const rs = rateSync({ client }, { api: { ratePerSecond: 1 }, jobs: { maxConcurrent: 1 } });
      await rs.connect();
      expect((await rs.check('api', { key: 'k' })).allowed).toBe(true);
      expect((await rs.check('api', { key: 'k' })).allowed).toBe(false);
      expect(await names()).not.toContain(`rate-sync:${STORE}`);

      const held = await rs.acquire('jobs', { key: 'k' });
      const waiting = rs.acquire('jobs', { key: 'k', timeout: 10 });
      await sleep(100);
      const started = performance.now();
      await held.release();
      const second = await waiting;
      expect(performance.now() - started).toBeLessThan(2000); // woken, not the 60 s lease expiry
      expect(await names()).toContain(`rate-sync:${STORE}:sub`);
      await second.release();
      await rs.close();
      expect(client.isReady).toBe(true);
      expect(listeners()).toEqual(before); // the store left nothing on the application's client
      expect(await client.ping()).toBe('PONG');
      expect(await names()).not.toContain(`rate-sync:${STORE}:sub`);
    } finally {
      client.destroy();
    }
  });

  it("refuses a client with a node-redis keyPrefix (its keys would not be the scripts')", async () => {
    const client = createClient({ url: redisUrl(), keyPrefix: 'app:' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const rs = rateSync({ client }, { api: { ratePerSecond: 1 } });
      const err = await rs.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreSetupError);
      expect(String(err)).toMatch(/keyPrefix.*key_prefix/);
      await rs.close();
    } finally {
      client.destroy();
    }
  });

  it('fails fast, as configured, when the application closes the client while running', async () => {
    const client = createClient({ url: redisUrl() });
    client.on('error', () => undefined);
    await client.connect();
    const logger = new MemoLogger();
    const rs = rateSync(
      { client },
      { open: { ratePerSecond: 1000 }, closed: { ratePerSecond: 1000, failClosed: true } },
      logger,
    );
    await rs.connect();
    expect((await rs.check('open')).allowed).toBe(true);
    await client.close();
    const started = performance.now();
    expect((await rs.check('open')).allowed).toBe(true);
    const err = await rs.acquire('closed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(500);
    expect(logger.lines.join('\n')).toMatch(/closed by the application/);
    await rs.close();
    await sleep(50);
    expect(unhandled).toEqual([]);
  });

  it('refuses a client or cluster that is not connected, saying what to do', async () => {
    for (const client of [
      createClient({ url: redisUrl() }),
      createCluster({ rootNodes: [{ url: redisUrl() }] }),
    ]) {
      const rs = rateSync({ client }, { api: { ratePerSecond: 1 } });
      await expect(rs.connect()).rejects.toThrow(/not connected.*client\.connect\(\)/s);
      await rs.close();
    }
  });
});
