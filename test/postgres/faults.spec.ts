/**
 * Faults: backends killed under load, a store that goes away and comes back, a silent
 * network. Errors must be prompt, never unhandled, never carry the password, and decisions
 * must be exact again once the server answers.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RateSync, StoreUnavailableError, type RateSyncConfig } from '../../lib/core';
import type { AcquireRequest } from '../../lib/core/engines/engine';
import { PostgresEngine } from '../../lib/core/engines/postgres';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import {
  PG_URL,
  captureLogger,
  describePg,
  dropSchema,
  pgContext,
  uniqueName,
  withClient,
} from '../support/postgres';
import { TcpProxy } from './tcp-proxy';

const SECRET = 'not-a-real-pass';
const sw = toPolicy('sw', { store: 's', algorithm: 'sliding_window', limit: 5, windowSeconds: 60 });
const conc = toPolicy('c', { store: 's', maxConcurrent: 4, leaseSeconds: 30 });
const tb = toPolicy('tb', { store: 's', ratePerSecond: 100000, burst: 1000 });
const req = (policy: typeof sw, id: string): AcquireRequest => ({
  policy,
  key: storageKey(policy.id, id),
  cost: 1,
  maxWaitMs: 0,
  leaseId: policy.concurrency ? randomUUID() : undefined,
});

/** The test server's URL with a password added (trust auth ignores it) and host:port replaced. */
function urlVia(port?: number): string {
  const u = new URL(PG_URL);
  u.password = SECRET;
  if (!u.username) u.username = 'postgres';
  if (port) {
    u.hostname = '127.0.0.1';
    u.port = String(port);
  }
  return u.toString();
}

/** Resolves once a backend of `applicationName` waits for a lock (polling, up to 5 s). */
async function waitForLockWait(applicationName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const waiting = await withClient(async (c) => {
      const { rowCount } = await c.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [applicationName],
      );
      return (rowCount ?? 0) > 0;
    });
    if (waiting) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no backend of ${applicationName} waited for a lock within 5 s`);
}

/** Ten sequential acquisitions of a fresh key of a 5-per-minute window: exactly five pass. */
async function admittedOfTen(acquire: (id: string) => Promise<boolean>): Promise<number> {
  const id = randomUUID();
  let n = 0;
  for (let i = 0; i < 10; i++) if (await acquire(id)) n++;
  return n;
}

describePg('faults', () => {
  const schema = uniqueName('rs_faults');
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await dropSchema(schema);
  });
  afterEach(() => expect(unhandled).toEqual([]));

  it('backends killed under load: prompt errors, none unhandled, exact afterwards', async () => {
    const logger = captureLogger();
    const storeId = uniqueName('victim');
    const engine = new PostgresEngine(
      pgContext(
        { url: urlVia(), schemaName: schema, tableName: 'kill', socketTimeout: 1 },
        { storeId, logger },
      ),
    );
    await engine.connect();
    const woken: number[] = [];
    engine.onRelease(conc, storageKey('c', 'w'), () => woken.push(performance.now()));
    const slowest = { ms: 0 };
    let ok = 0;
    let failed = 0;
    const end = performance.now() + 1500;
    const worker = async (w: number): Promise<void> => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const r = req(w % 2 ? conc : tb, `k${w}`);
          const [d] = await engine.acquire([r]);
          if (d.allowed && r.leaseId) await engine.release(conc, r.key, r.leaseId);
          ok++;
        } catch {
          failed++;
        }
        slowest.ms = Math.max(slowest.ms, performance.now() - t0);
      }
    };
    const kill = async (): Promise<number> =>
      withClient(async (c) => {
        const { rowCount } = await c.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
          [`rate-sync:${storeId}`],
        );
        return rowCount ?? 0;
      });
    // A call certain to be in flight at a kill (decisions under load are batched, so most
    // pooled connections are idle at any instant): it waits for a row another session locks.
    const locked = req(tb, 'locked');
    await engine.acquire([locked]);
    const locker = new Client({ connectionString: PG_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM "${schema}".kill WHERE key = $1 FOR UPDATE`, [locked.key]);
    const stuck = engine.acquire([locked]).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await waitForLockWait(`rate-sync:${storeId}`);
    const killed = [await kill()];
    expect(await stuck).toMatch(/terminating connection/);
    await locker.end();

    const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    for (const at of [300, 700, 1100]) {
      await new Promise((r) => setTimeout(r, at - (1500 - (end - performance.now()))));
      killed.push(await kill());
    }
    await load;

    // The LISTEN connection was killed too: it comes back and delivers again.
    const other = new PostgresEngine(pgContext({ schemaName: schema, tableName: 'kill' }));
    await other.connect();
    const r = req(conc, 'w');
    const since = performance.now();
    for (let i = 0; i < 100 && !woken.some((t) => t >= since); i++) {
      await other.acquire([r]);
      await other.release(conc, r.key, r.leaseId!);
      await new Promise((res) => setTimeout(res, 50));
    }
    await other.close();
    const exact = await admittedOfTen(
      async (id) => (await engine.acquire([req(sw, id)]))[0].allowed,
    );
    await engine.close();

    console.log(
      `backends killed under load: ${killed.join('+')} backends terminated, ${ok} calls succeeded, ${failed} failed, ` +
        `slowest call ${Math.round(slowest.ms)} ms; ${logger.messages.length} log lines`,
    );
    expect(killed.every((n) => n > 0)).toBe(true);
    expect(slowest.ms).toBeLessThan(2000);
    expect(woken.some((t) => t >= since)).toBe(true);
    expect(exact).toBe(5);
    expect(logger.messages.join('\n')).not.toContain(SECRET);
  }, 30_000);

  describe('through a proxy that fails', () => {
    const proxy = new TcpProxy(new URL(PG_URL).hostname, Number(new URL(PG_URL).port || 5432));
    beforeEach(() => proxy.up());
    afterEach(() => proxy.close());

    const setup = async (store: Partial<RateSyncConfig['stores'][string]>) => {
      const logger = captureLogger();
      const rs = new RateSync(
        {
          stores: {
            pg: {
              engine: 'postgres',
              url: urlVia(proxy.port),
              schemaName: schema,
              breakerCooldown: 0.2,
              ...store,
            },
          },
          limiters: {
            open: { store: 'pg', algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
            closed: {
              store: 'pg',
              algorithm: 'sliding_window',
              limit: 5,
              windowSeconds: 60,
              failClosed: true,
            },
          },
        },
        { logger },
      );
      await rs.connect();
      return { rs, logger };
    };

    it('an outage: fail-open admits and warns, fail-closed rejects, exact again once back', async () => {
      const { rs, logger } = await setup({ tableName: 'outage' });
      expect(await admittedOfTen(async (key) => (await rs.check('open', { key })).allowed)).toBe(5);
      await proxy.down();
      const t0 = performance.now();
      const open = await rs.check('open', { key: 'during' });
      const closed = await rs.check('closed', { key: 'during' }).catch((e: Error) => e);
      const tookMs = performance.now() - t0;
      expect(open).toMatchObject({ allowed: true, failedOpen: true, blockedBy: 'store' });
      expect(closed).toBeInstanceOf(StoreUnavailableError);
      expect(tookMs).toBeLessThan(1000);
      await proxy.up();
      await new Promise((r) => setTimeout(r, 300)); // the breaker's cool-down
      expect(await admittedOfTen(async (key) => (await rs.check('open', { key })).allowed)).toBe(5);
      expect(await admittedOfTen(async (key) => (await rs.check('closed', { key })).allowed)).toBe(
        5,
      );
      await rs.close();
      const log = logger.messages.join('\n');
      expect(log).toMatch(/fail-open/);
      expect(log).not.toContain(SECRET);
      console.log(
        `outage: both failure modes answered in ${Math.round(tookMs)} ms while the store was down`,
      );
    }, 30_000);

    it('a silent network: calls fail within the configured timeouts, nothing hangs', async () => {
      const { rs, logger } = await setup({
        tableName: 'silent',
        socketTimeout: 0.3,
        socketConnectTimeout: 0.5,
      });
      expect((await rs.check('open', { key: 'before' })).allowed).toBe(true);
      proxy.blackhole();
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          rs.check('closed', { key: `silent${i}` }).catch((e: Error) => e),
        ),
      );
      const tookMs = performance.now() - t0;
      expect(results.every((r) => r instanceof StoreUnavailableError)).toBe(true);
      expect(tookMs).toBeLessThan(2500);
      await proxy.down();
      await proxy.up();
      await new Promise((r) => setTimeout(r, 300));
      expect(await admittedOfTen(async (key) => (await rs.check('closed', { key })).allowed)).toBe(
        5,
      );
      await rs.close();
      expect(logger.messages.join('\n')).not.toContain(SECRET);
      console.log(
        `silent network: 8 concurrent fail-closed calls rejected within ${Math.round(tookMs)} ms`,
      );
    }, 30_000);
  });
});
