import Redis, { type RedisOptions } from 'ioredis';
import {
  RateSync,
  StoreSetupError,
  StoreUnavailableError,
  type LimiterOptions,
} from '../../lib/core';
import { describeRedis, describeRedisBinaries, redisUrl, uniquePrefix } from '../support/redis';
import { luaScript } from '../../lib/core/engines/redis/script-runner';
import { GCRA_ONE_LUA } from '../../lib/core/engines/redis/scripts/gcra.script';
import { MemoLogger } from './engine-fixture';
import { RedisServer, sparePort } from './redis-server';

/**
 * A store given the application's own ioredis client (`client` option): the store uses it,
 * never closes it, subscribes on a connection of its own, loads its scripts at startup, and
 * says what is wrong, naming the store, when the client is unusable.
 */
function rateSync(
  client: object,
  limiters: Record<string, Omit<LimiterOptions, 'store'>>,
  logger = new MemoLogger(),
): RateSync {
  const withStore = Object.fromEntries(
    Object.entries(limiters).map(([id, l]) => [id, { ...l, store: 'app' }]),
  );
  return new RateSync(
    {
      stores: { app: { engine: 'redis', client, keyPrefix: uniquePrefix('bc') } },
      limiters: withStore,
    },
    { logger },
  );
}

const names = async (c: Redis): Promise<string[]> =>
  String(await c.client('LIST'))
    .split('\n')
    .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '');

describeRedis('redis store on a client given in code', () => {
  const opened: Redis[] = [];
  const app = (options: RedisOptions = {}): Redis => {
    const c = new Redis(redisUrl(), { connectionName: `app-${uniquePrefix()}`, ...options });
    opened.push(c);
    return c;
  };
  afterEach(() => opened.splice(0).forEach((c) => c.disconnect()));

  it('decides on it, and leaves it open after close()', async () => {
    const client = app();
    const rs = rateSync(client, { api: { ratePerSecond: 1 } });
    await rs.connect();
    expect((await rs.check('api', { key: 'k' })).allowed).toBe(true);
    expect((await rs.check('api', { key: 'k' })).allowed).toBe(false);
    // The decisions ran on the application's client: the store opened no connection of its own.
    expect(await names(client)).not.toContain('rate-sync:app');
    await rs.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('wakes waiters through a subscriber connection of its own, closed by close()', async () => {
    const client = app();
    const rs = rateSync(client, { jobs: { maxConcurrent: 1 } });
    await rs.connect();
    const held = await rs.acquire('jobs', { key: 'k' });
    const waiting = rs.acquire('jobs', { key: 'k', timeout: 10 });
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await held.release();
    const second = await waiting;
    // Woken by the release, not by the 60 s lease expiry.
    expect(performance.now() - started).toBeLessThan(2000);
    // The application's client is not in subscriber mode: it still runs commands.
    expect(await client.ping()).toBe('PONG');
    expect(await names(client)).toContain('rate-sync:app:sub');
    await second.release();
    await rs.close();
    expect(await names(client)).not.toContain('rate-sync:app:sub');
    expect(client.status).toBe('ready');
  });

  it('refuses a client that is not connected, naming the store and the fix', async () => {
    const client = app({ lazyConnect: true });
    const rs = rateSync(client, { api: { ratePerSecond: 1 } });
    const err = await rs.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSetupError);
    expect(String(err)).toMatch(/Store 'app'.*not connected.*client\.connect\(\)/);
    await rs.close();
    expect(client.status).toBe('wait');
  });

  it('refuses a closed client, even with fail-open limiters', async () => {
    const client = app();
    await client.quit();
    while (client.status !== 'end') await new Promise((r) => setTimeout(r, 5));
    const rs = rateSync(client, { api: { ratePerSecond: 1 } });
    const err = await rs.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSetupError);
    expect(String(err)).toMatch(/Store 'app'.*closed/);
    await rs.close();
  });

  it("refuses a client with an ioredis keyPrefix (its keys would not be the scripts')", async () => {
    const client = app({ keyPrefix: 'app:' });
    const rs = rateSync(client, { api: { ratePerSecond: 1 } });
    const err = await rs.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSetupError);
    expect(String(err)).toMatch(/keyPrefix.*key_prefix/);
    await rs.close();
  });

  it('fails fast, as configured, when the application closes the client while running', async () => {
    const client = app();
    const logger = new MemoLogger();
    const rs = rateSync(
      client,
      { open: { ratePerSecond: 1000 }, closed: { ratePerSecond: 1000, failClosed: true } },
      logger,
    );
    await rs.connect();
    expect((await rs.check('open')).allowed).toBe(true);
    await client.quit();
    const started = performance.now();
    // Fail-open: admitted, with a warning naming the store and what happened.
    expect((await rs.check('open')).allowed).toBe(true);
    const err = await rs.acquire('closed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(500);
    expect(logger.lines.join('\n')).toMatch(/Store 'app'.*closed by the application/);
    await rs.close();
  });
});

describeRedisBinaries('redis store on a client given in code: private servers', () => {
  let master: RedisServer;
  let replica: RedisServer;

  beforeAll(async () => {
    master = new RedisServer(await sparePort(41100, 41200));
    await master.start();
    replica = new RedisServer(await sparePort(41200, 41300), [
      '--replicaof',
      '127.0.0.1',
      String(master.port),
    ]);
    await replica.start();
  }, 30_000);
  afterAll(async () => {
    await replica?.dispose();
    await master?.dispose();
  });

  it('refuses a client connected to a replica, naming the store', async () => {
    const client = new Redis(replica.port, '127.0.0.1');
    try {
      const rs = rateSync(client, { api: { ratePerSecond: 1 } });
      const err = await rs.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreSetupError);
      expect(String(err)).toMatch(/Store 'app'.*replica/);
      await rs.close();
    } finally {
      client.disconnect();
    }
  });

  it('loads its scripts on the client at startup', async () => {
    const server = new RedisServer(await sparePort(41500, 41600));
    await server.start();
    const client = new Redis(server.port, '127.0.0.1');
    try {
      const rs = rateSync(client, { api: { ratePerSecond: 1 } });
      await rs.connect();
      // Before any decision: SCRIPT LOAD ran on the client's server at startup.
      expect(await client.script('EXISTS', luaScript('gcra', GCRA_ONE_LUA).sha)).toEqual([1]);
      await rs.close();
    } finally {
      client.disconnect();
      await server.dispose();
    }
  });

  it('fails at once while the client reconnects, even with its offline queue on', async () => {
    const server = new RedisServer(await sparePort(41300, 41400));
    await server.start();
    const client = new Redis(server.port, '127.0.0.1', { enableOfflineQueue: true });
    client.on('error', () => undefined);
    try {
      const rs = rateSync(client, { closed: { ratePerSecond: 1000, failClosed: true } });
      await rs.connect();
      await server.stop();
      while (client.status === 'ready') await new Promise((r) => setTimeout(r, 10));
      const started = performance.now();
      const err = await rs.acquire('closed').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - started).toBeLessThan(200);
      await rs.close();
    } finally {
      client.disconnect();
      await server.dispose();
    }
  });

  it('bounds each call by socketTimeout when the client has no commandTimeout', async () => {
    const server = new RedisServer(await sparePort(41400, 41500));
    await server.start();
    const client = new Redis(server.port, '127.0.0.1');
    client.on('error', () => undefined);
    try {
      const rs = new RateSync(
        {
          stores: { app: { engine: 'redis', client, socketTimeout: 0.3 } },
          limiters: { closed: { store: 'app', ratePerSecond: 1000, failClosed: true } },
        },
        { logger: new MemoLogger() },
      );
      await rs.connect();
      server.pause(true);
      const started = performance.now();
      const err = await rs.acquire('closed').catch((e: unknown) => e);
      const took = performance.now() - started;
      server.pause(false);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(String((err as Error).cause ?? err)).toMatch(
        /no reply within socket_timeout \(0.3 s\)/,
      );
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(2000);
      await rs.close();
    } finally {
      client.disconnect();
      await server.dispose();
    }
  });
});
