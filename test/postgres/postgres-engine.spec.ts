/**
 * The postgres engine on a real server, below the facade: schema management, what is and is
 * not written, lease functions, NOTIFY wake-ups, cleanup, names and connection errors.
 */
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../lib/core/clock';
import { InvalidArgumentError, RateSyncError, StoreSetupError } from '../../lib/core/errors';
import type { AcquireRequest } from '../../lib/core/engines/engine';
import { PostgresEngine, postgresNames } from '../../lib/core/engines/postgres';
import { statements } from '../../lib/core/engines/postgres/statements';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import {
  captureLogger,
  describePg,
  dropSchema,
  pgContext,
  uniqueName,
  withClient,
} from '../support/postgres';

const tb = toPolicy('tb', { store: 's', ratePerSecond: 10 });
const sw = toPolicy('sw', { store: 's', algorithm: 'sliding_window', limit: 2, windowSeconds: 60 });
const conc = toPolicy('c', { store: 's', maxConcurrent: 1, leaseSeconds: 30 });
const req = (policy = tb, id?: string, extra: Partial<AcquireRequest> = {}): AcquireRequest => ({
  policy,
  key: storageKey(policy.id, id),
  cost: 1,
  maxWaitMs: 0,
  leaseId: policy.concurrency ? randomUUID() : undefined,
  ...extra,
});

/** Resolves when `check` is true, polling every 10 ms, or rejects after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describePg('PostgresEngine', () => {
  const schema = uniqueName('rs_engine');
  const engines: PostgresEngine[] = [];
  const open = async (
    options: Parameters<typeof pgContext>[0] = {},
    logger = captureLogger(),
    testClock?: ManualClock,
  ) => {
    const e = new PostgresEngine(
      pgContext({ schemaName: schema, ...options }, { logger, testClock }),
    );
    engines.push(e);
    await e.connect();
    return e;
  };
  const count = (table = 'rate_limiter_state'): Promise<number> =>
    withClient(async (c) =>
      Number((await c.query(`SELECT count(*) FROM "${schema}"."${table}"`)).rows[0].count),
    );

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  afterAll(() => dropSchema(schema));

  describe('schema objects', () => {
    it('are created once when several engines start at the same moment', async () => {
      const fresh = uniqueName('rs_race');
      try {
        const starters = Array.from(
          { length: 6 },
          () => new PostgresEngine(pgContext({ schemaName: fresh })),
        );
        engines.push(...starters);
        await Promise.all(starters.map((e) => e.connect()));
        const objects = await withClient(async (c) => {
          const { rows } = await c.query(
            `SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'r') AS tables,
                    (SELECT count(*) FROM pg_proc WHERE pronamespace = $1::regnamespace) AS functions`,
            [fresh],
          );
          return rows[0];
        });
        expect(objects).toEqual({ tables: '1', functions: '5' });
        expect((await starters[3].acquire([req()]))[0].allowed).toBe(true);
      } finally {
        await Promise.all(engines.splice(0).map((e) => e.close()));
        await dropSchema(fresh);
      }
    });

    it('waits for another process installing the schema longer than a decision may take', async () => {
      // Another process holds the DDL lock for 1.5 s; decisions may take 0.3 s (+ 250 ms).
      const table = 'slow_install';
      const lock = postgresNames(schema, table).ddlLock;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = withClient(async (c) => {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...lock]);
        locked();
        await held;
        await c.query('COMMIT');
      });
      await isLocked;
      const e = new PostgresEngine(
        pgContext({ schemaName: schema, tableName: table, socketTimeout: 0.3 }),
      );
      engines.push(e);
      const connecting = e.connect().then(
        () => 'connected',
        (err: Error) => err.message,
      );
      await new Promise((r) => setTimeout(r, 1500));
      release();
      await holder;
      expect(await connecting).toBe('connected');
      expect((await e.acquire([req()]))[0].allowed).toBe(true);
    });

    it('without auto_create, a missing table is an error that gives the DDL to run', async () => {
      const e = new PostgresEngine(
        pgContext({ schemaName: uniqueName('rs_none'), autoCreate: false }),
      );
      const err = await e.connect().catch((x: Error) => x);
      expect(err).toBeInstanceOf(RateSyncError);
      expect((err as Error).message).toMatch(/does not exist, and auto_create is false/);
      expect((err as Error).message).toMatch(/docs\/engines\/postgres\.md/);
      expect((err as Error).message).toMatch(/CREATE TABLE IF NOT EXISTS/);
      await e.close();
    });

    it('an install of an older version (no <table>_batch) gets it at connect(), or fails without auto_create', async () => {
      await open({ tableName: 'older' });
      const hasBatchFunction = () =>
        withClient(
          async (c) =>
            (await c.query(`SELECT to_regproc('"${schema}".older_batch') IS NOT NULL AS present`))
              .rows[0].present as boolean,
        );
      await withClient((c) => c.query(`DROP FUNCTION "${schema}".older_batch`));
      const strict = new PostgresEngine(
        pgContext({ schemaName: schema, tableName: 'older', autoCreate: false }),
      );
      const err = await strict.connect().catch((x: Error) => x);
      await strict.close();
      expect(err).toBeInstanceOf(StoreSetupError);
      expect((err as Error).message).toMatch(
        /function "rs_engine_\w+"\."older_batch"\(text\[\], .*\) does not exist, and auto_create is false/,
      );
      expect(await hasBatchFunction()).toBe(false);
      await open({ tableName: 'older' });
      expect(await hasBatchFunction()).toBe(true);
    });

    it('a function whose SET clauses differ is outdated: replaced at connect(), or an error without auto_create', async () => {
      await open({ tableName: 'settings' });
      const fn = `"${schema}".settings_batch`;
      const settings = () =>
        withClient(
          async (c) =>
            (await c.query(`SELECT proconfig FROM pg_proc WHERE oid = $1::regproc`, [fn])).rows[0]
              .proconfig as string[],
        );
      const expected = ['enable_seqscan=off', 'plan_cache_mode=force_generic_plan'];
      expect((await settings()).sort()).toEqual(expected);
      await open({ tableName: 'settings', autoCreate: false }); // as installed: no false alarm
      await withClient((c) => c.query(`ALTER FUNCTION ${fn} RESET enable_seqscan`));

      const err = await open({ tableName: 'settings', autoCreate: false }).catch((x: Error) => x);
      expect(err).toBeInstanceOf(StoreSetupError);
      const message = (err as Error).message;
      expect(message).toMatch(/"settings_batch"\(text\[\], .*\) has other SET settings than/);
      expect(message).toContain(
        '(installed: plan_cache_mode=force_generic_plan; ' +
          'expected: enable_seqscan=off, plan_cache_mode=force_generic_plan), and auto_create is false',
      );
      expect(message).toMatch(/SET plan_cache_mode = force_generic_plan SET enable_seqscan = off/);
      expect(await settings()).toEqual(['plan_cache_mode=force_generic_plan']);
      await open({ tableName: 'settings' });
      expect((await settings()).sort()).toEqual(expected);
    });

    it("refuses a table of the same name with another layout (e.g. the Python library's)", async () => {
      await withClient((c) =>
        c.query(
          `CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE "${schema}".foreign_t (id int)`,
        ),
      );
      const err = await open({ tableName: 'foreign_t' }).catch((x: Error) => x);
      expect((err as Error).message).toMatch(/exists but is not a rate-sync state table/);
    });

    it('creates an UNLOGGED table on request, and warns when the existing one differs', async () => {
      await open({ tableName: 'fast', unlogged: true });
      const persistence = await withClient(
        async (c) =>
          (
            await c.query(
              `SELECT relpersistence FROM pg_class WHERE oid = '"${schema}".fast'::regclass`,
            )
          ).rows[0],
      );
      expect(persistence).toEqual({ relpersistence: 'u' });
      const logger = captureLogger();
      await open({ tableName: 'fast', unlogged: false }, logger);
      expect(logger.messages.join('\n')).toMatch(/is UNLOGGED but unlogged = false/);
    });
  });

  describe('names', () => {
    it.each([
      ['tableName', 'x; drop table y'],
      ['tableName', 'a'.repeat(100)],
      ['tableName', 'a'.repeat(56)],
      ['tableName', 'quo"ted'],
      ['tableName', '1st'],
      ['schemaName', 'public; drop schema public'],
      ['schemaName', ''],
    ])('rejects %s = %j before any SQL', (option, value) => {
      expect(() => new PostgresEngine(pgContext({ [option]: value }))).toThrow(
        InvalidArgumentError,
      );
      expect(() => new PostgresEngine(pgContext({ [option]: value }))).toThrow(new RegExp(option));
    });

    it('quotes names, so mixed case and reserved words work', async () => {
      const e = await open({ tableName: 'Select' });
      expect((await e.acquire([req()]))[0].allowed).toBe(true);
      expect(await count('Select')).toBe(1);
    });
  });

  describe('writes', () => {
    it('a dry run writes nothing, not even an empty row', async () => {
      const e = await open({ tableName: 'dry' });
      const before = await count('dry');
      const [d] = await e.acquire([req(sw, 'dry-run', { dryRun: true })]);
      expect(d).toMatchObject({ allowed: true, remaining: 2 });
      expect(await count('dry')).toBe(before);
    });

    it('a rejected composite writes nothing, and drops the rows it had to create', async () => {
      const e = await open({ tableName: 'comp' });
      await e.acquire([req(sw, 'full')]);
      await e.acquire([req(sw, 'full')]);
      const rows = await count('comp');
      const ds = await e.acquire([req(tb, 'new-key'), req(sw, 'full')]);
      expect(ds.map((d) => d.allowed)).toEqual([true, false]);
      expect(await count('comp')).toBe(rows);
      expect((await e.acquire([req(tb, 'new-key')]))[0]).toMatchObject({
        allowed: true,
        remaining: 0,
      });
    });

    it('sets synchronous_commit for its own transaction only, on every decision path', async () => {
      const e = await open({ tableName: 'sync', synchronousCommit: 'local' });
      await e.acquire([req()]);
      const inTransaction = (text: string, values: unknown[]) =>
        withClient(async (c) => {
          await c.query('BEGIN');
          await c.query(text, values);
          const inside = (await c.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
          await c.query('COMMIT');
          const after = (await c.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
          return { inside, after };
        });
      const sql = statements(postgresNames(schema, 'sync'));
      const general = await inTransaction(sql.acquire, [
        ['k'],
        [1],
        [0],
        [100],
        [1],
        [null],
        [null],
        [null],
        [null],
        [null],
        [false],
        'remote_write',
        null,
      ]);
      const tokenBucket = await inTransaction(sql.acquireTokenBucket, [
        'k',
        1,
        100,
        1,
        0,
        null,
        'remote_write',
      ]);
      const batch = await inTransaction(sql.batch, [
        ['k'],
        [1, 1],
        [1, 1],
        [100, 100],
        [1, 1],
        [0, 0],
        'remote_write',
        null,
      ]);
      expect({ general, tokenBucket, batch }).toEqual({
        general: { inside: 'remote_write', after: 'on' },
        tokenBucket: { inside: 'remote_write', after: 'on' },
        batch: { inside: 'remote_write', after: 'on' },
      });
    });
  });

  describe('leases', () => {
    it('renews live leases but never brings back an expired one', async () => {
      const clock = new ManualClock();
      const e = await open({ tableName: 'renew' }, undefined, clock);
      const p = toPolicy('r', { store: 's', maxConcurrent: 1, leaseSeconds: 1 });
      const key = storageKey('r', undefined);
      await e.acquire([req(p, undefined, { leaseId: 'a' })]);
      await clock.advance(900);
      await e.renew(p, key, ['a']);
      await clock.advance(900); // alive thanks to the renewal
      expect((await e.acquire([req(p, undefined, { dryRun: true })]))[0]).toMatchObject({
        allowed: false,
        inFlight: 1,
      });
      await clock.advance(200); // expired now
      expect((await e.acquire([req(p, undefined, { leaseId: 'b' })]))[0].allowed).toBe(true);
      await e.renew(p, key, ['a']);
      expect((await e.acquire([req(p, undefined, { dryRun: true })]))[0]).toMatchObject({
        inFlight: 1,
      });
    });

    it('wakes listeners in another engine (another process) on release and on reset', async () => {
      const a = await open({ tableName: 'notify' });
      const b = await open({ tableName: 'notify' });
      const heard: string[] = [];
      b.onRelease(conc, storageKey('c', 'x'), (missed) => heard.push(missed ? 'x missed' : 'x'));
      b.onRelease(conc, storageKey('c', 'y'), (missed) => heard.push(missed ? 'y missed' : 'y'));
      await eventually(() => heard.length >= 2); // once when LISTEN is in place
      expect(heard.sort()).toEqual(['x missed', 'y missed']);
      heard.length = 0;
      const r = req(conc, 'x');
      await a.acquire([r]);
      await a.release(conc, r.key, r.leaseId!);
      await a.release(conc, r.key, r.leaseId!); // no-op, no notification
      await eventually(() => heard.includes('x'));
      expect(heard).toEqual(['x']);
      await a.acquire([req(conc, 'y')]);
      await a.reset(conc); // one notification for the whole limiter wakes its listeners
      await eventually(() => heard.includes('y'));
    });
  });

  describe('reset and cleanup', () => {
    it('resets one limiter without touching one whose id only matches as a LIKE pattern', async () => {
      const e = await open({ tableName: 'reset' });
      const under = toPolicy('a_b', { store: 's', ratePerSecond: 1 });
      const other = toPolicy('axb', { store: 's', ratePerSecond: 1 });
      await e.acquire([req(under, 'k')]);
      await e.acquire([req(under)]);
      await e.acquire([req(other, 'k')]);
      await e.reset(under);
      expect((await e.acquire([req(under, 'k')]))[0].allowed).toBe(true);
      expect((await e.acquire([req(under)]))[0].allowed).toBe(true);
      expect((await e.acquire([req(other, 'k')]))[0].allowed).toBe(false);
    });

    it('deletes expired rows in bounded batches, and only those', async () => {
      const e = await open({ tableName: 'clean' });
      const short = toPolicy('short', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 1,
        windowSeconds: 0.05,
      });
      for (let i = 0; i < 7; i++) await e.acquire([req(short, `k${i}`)]);
      await e.acquire([req(sw, 'long')]);
      await new Promise((r) => setTimeout(r, 80));
      expect(await e.cleanup(3, 2)).toBe(6);
      expect(await e.cleanup(3, 2)).toBe(1);
      expect(await count('clean')).toBe(1);
    });

    it('decides what has expired on the test clock when one is given, as decisions do', async () => {
      // A test clock an hour behind the server: on the server's clock every row below has
      // expired, on the decisions' clock none has.
      const clock = new ManualClock(Date.now() - 3_600_000);
      const e = await open({ tableName: 'clean_test_clock' }, captureLogger(), clock);
      for (let i = 0; i < 3; i++) await e.acquire([req(sw, `k${i}`)]);
      expect(await e.cleanup()).toBe(0);
      expect(await count('clean_test_clock')).toBe(3);
      await clock.advance(59_000); // the rows' 60 s window has not passed on this clock yet
      expect(await e.cleanup()).toBe(0);
      await clock.advance(2_000);
      expect(await e.cleanup()).toBe(3);
    });

    it('runs the cleanup on its own timer, which close() stops', async () => {
      const e = await open({ tableName: 'timer', cleanupInterval: 0.1 });
      const short = toPolicy('short', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 1,
        windowSeconds: 0.05,
      });
      await e.acquire([req(short, 'k')]);
      await eventually(async () => (await count('timer')) === 0);
      await e.close();
      await e.close();
    });
  });

  describe('connection', () => {
    it('rejects promptly and clearly when the server is unreachable, without the password', async () => {
      const e = new PostgresEngine(
        pgContext({ url: 'postgres://app:s3cr3t-pw@127.0.0.1:1/db', socketConnectTimeout: 2 }),
      );
      const t0 = performance.now();
      const err = (await e.connect().catch((x: Error) => x)) as Error;
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(err.message).toMatch(
        /cannot connect to PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/db/,
      );
      expect(err.message).not.toMatch(/s3cr3t/);
      // Later calls try to connect again (the server may be back): same prompt, clean error.
      await expect(e.acquire([req()])).rejects.toThrow(/cannot connect to PostgreSQL/);
      await e.close();
      await expect(e.acquire([req()])).rejects.toThrow(/closed/);
    });

    it('does not reopen after close(): connect() and calls reject, naming the store', async () => {
      const e = await open({ tableName: 'closed' });
      expect((await e.acquire([req()]))[0].allowed).toBe(true);
      await e.close();
      const closed = /Store 'pg-test': connect\(\) called after the postgres engine was closed/;
      await expect(e.connect()).rejects.toThrow(closed);
      await expect(e.acquire([req()])).rejects.toThrow(
        /called after the postgres engine was closed/,
      );
    });

    it('connects on first use when the server was not reachable at startup', async () => {
      const e = new PostgresEngine(pgContext({ schemaName: schema }));
      engines.push(e);
      const [d] = await e.acquire([req()]);
      expect(d.allowed).toBe(true);
    });
  });
});
