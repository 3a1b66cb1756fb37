import { Pool } from 'pg';
import {
  RateSync,
  StoreSetupError,
  StoreUnavailableError,
  type LimiterOptions,
  type StoreOptions,
} from '../../lib/core';
import { captureLogger, describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';

/**
 * A postgres store given the application's own `pg` Pool (`client` option): used, never
 * ended by the store, checked at startup; and a store without `url`, on the PG* variables.
 */
function rateSync(
  store: Partial<StoreOptions>,
  limiters: Record<string, Omit<LimiterOptions, 'store'>>,
  logger = captureLogger(),
): RateSync {
  const withStore = Object.fromEntries(
    Object.entries(limiters).map(([id, l]) => [id, { ...l, store: 'app' }]),
  );
  return new RateSync(
    { stores: { app: { engine: 'postgres', ...store } }, limiters: withStore },
    { logger },
  );
}

describePg('postgres store on a pool given in code', () => {
  const schema = uniqueName('rs_bp');
  const pools: Pool[] = [];
  const appPool = (url = PG_URL): Pool => {
    const pool = new Pool({ connectionString: url, max: 3 });
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => (p.ended ? undefined : p.end())));
  });
  afterAll(() => dropSchema(schema));

  it('decides on it, creates the schema objects, and leaves it open after close()', async () => {
    const pool = appPool();
    const rs = rateSync({ client: pool, schemaName: schema }, { api: { ratePerSecond: 1 } });
    await rs.connect();
    expect((await rs.check('api', { key: 'k' })).allowed).toBe(true);
    expect((await rs.check('api', { key: 'k' })).allowed).toBe(false);
    await rs.close();
    expect(pool.ended).toBe(false);
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('wakes waiters through a LISTEN connection of its own, from the pool settings', async () => {
    const pool = appPool();
    const rs = rateSync({ client: pool, schemaName: schema }, { jobs: { maxConcurrent: 1 } });
    await rs.connect();
    const held = await rs.acquire('jobs', { key: 'k' });
    const waiting = rs.acquire('jobs', { key: 'k', timeout: 10 });
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    await held.release();
    const second = await waiting;
    // Woken by NOTIFY, not by the 60 s lease expiry.
    expect(performance.now() - started).toBeLessThan(2000);
    await second.release();
    await rs.close();
    expect(pool.ended).toBe(false);
  });

  it('refuses a pool that is already ended, even with fail-open limiters', async () => {
    const pool = appPool();
    await pool.end();
    const rs = rateSync({ client: pool, schemaName: schema }, { api: { ratePerSecond: 1 } });
    const err = await rs.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSetupError);
    expect(String(err)).toMatch(/Store 'app'.*pg Pool given in code has been ended/);
    await rs.close();
  });

  it('refuses a pool on another database where the table is missing (auto_create off)', async () => {
    const other = PG_URL.replace(/\/[^/?]*(\?|$)/, '/postgres$1');
    const pool = appPool(other);
    const rs = rateSync(
      { client: pool, schemaName: schema, tableName: uniqueName('t'), autoCreate: false },
      { api: { ratePerSecond: 1 } },
    );
    const err = await rs.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSetupError);
    expect(String(err)).toMatch(/Store 'app'.*auto_create is false/);
    await rs.close();
    expect(pool.ended).toBe(false);
  });

  it('fails fast, as configured, when the application ends the pool while running', async () => {
    const pool = appPool();
    const logger = captureLogger();
    const rs = rateSync(
      { client: pool, schemaName: schema },
      { open: { ratePerSecond: 1000 }, closed: { ratePerSecond: 1000, failClosed: true } },
      logger,
    );
    await rs.connect();
    expect((await rs.check('open')).allowed).toBe(true);
    await pool.end();
    const started = performance.now();
    expect((await rs.check('open')).allowed).toBe(true);
    const err = await rs.acquire('closed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(500);
    expect(logger.messages.join('\n')).toMatch(/Store 'app'.*ended by the application/);
    await rs.close();
  });
});

describePg('postgres store without url: the PG* environment variables', () => {
  const schema = uniqueName('rs_env');
  const saved: Record<string, string | undefined> = {};
  const VARS = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'];
  beforeAll(() => {
    for (const v of VARS) saved[v] = process.env[v];
    const u = new URL(PG_URL);
    process.env.PGHOST = u.hostname;
    process.env.PGPORT = u.port || '5432';
    process.env.PGUSER = decodeURIComponent(u.username);
    process.env.PGPASSWORD = decodeURIComponent(u.password);
    process.env.PGDATABASE = u.pathname.slice(1);
  });
  afterAll(async () => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    await dropSchema(schema);
  });

  it('connects where they point, as pg and libpq do', async () => {
    const rs = rateSync({ schemaName: schema }, { api: { ratePerSecond: 1 } });
    await rs.connect();
    expect((await rs.check('api', { key: 'k' })).allowed).toBe(true);
    expect((await rs.check('api', { key: 'k' })).allowed).toBe(false);
    await rs.close();
  });

  it('fails to connect when they point nowhere, naming the variables', async () => {
    process.env.PGPORT = '1';
    try {
      const rs = rateSync({ schemaName: schema }, { api: { ratePerSecond: 1, failClosed: true } });
      const err = await rs.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(String((err as Error).cause)).toMatch(/server of the PG\* environment variables/);
      await rs.close();
    } finally {
      process.env.PGPORT = new URL(PG_URL).port || '5432';
    }
  });
});
