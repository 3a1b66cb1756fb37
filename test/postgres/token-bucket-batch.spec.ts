/**
 * Lone token buckets issued in the same tick go to PostgreSQL as one call of `<table>_batch`:
 * decisions and stored state exactly as the reference model applied in arrival order, in one
 * round trip; no deadlock between the batches of several processes; a row deleted under a
 * batch is recreated; a failed call rejects every decision in it, none unhandled.
 */
import { Client, Pool, type PoolClient } from 'pg';
import { decideLayer } from '../../lib/core/algorithms/decide';
import { ManualClock } from '../../lib/core/clock';
import type { AcquireRequest, LayerDecision } from '../../lib/core/engines/engine';
import { PostgresEngine } from '../../lib/core/engines/postgres';
import { statements } from '../../lib/core/engines/postgres/statements';
import { MAX_BATCH } from '../../lib/core/engines/postgres/postgres.engine';
import { RateSyncError } from '../../lib/core/errors';
import { storageKey } from '../../lib/core/keys';
import { toPolicy, type LimiterPolicy } from '../../lib/core/policy';
import {
  PG_URL,
  describePg,
  dropSchema,
  pgContext,
  uniqueName,
  withClient,
} from '../support/postgres';
import { prng } from '../support/prng';

const tb = toPolicy('b', { store: 's', ratePerSecond: 10, burst: 4 });
const thirds = toPolicy('c', { store: 's', ratePerSecond: 3, burst: 2 });
const req = (policy: LimiterPolicy, id: string, cost = 1, maxWaitMs = 0): AcquireRequest => ({
  policy,
  key: storageKey(policy.id, id),
  cost,
  maxWaitMs,
});

/** Each key's tat, and its tat before its last decision, as the reference model keeps them. */
interface Model {
  readonly tat: Map<string, number>;
  readonly prev: Map<string, number | null>;
}
const model = (): Model => ({ tat: new Map(), prev: new Map() });

/** The reference model applied to `requests` one after another, at `now`. */
function replay(m: Model, now: number, requests: readonly AcquireRequest[]): LayerDecision[] {
  return requests.map((r) => {
    const tat = m.tat.get(r.key);
    m.prev.set(r.key, tat ?? null);
    const { decision, write } = decideLayer({ tat }, now, r);
    if (decision.allowed) m.tat.set(r.key, write.tat!);
    return decision;
  });
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Resolves with `probe()`'s first truthy value, polling every 10 ms; rejects after 5 s. */
async function pollFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + 5000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describePg('postgres engine: lone token buckets batched per tick', () => {
  const schema = uniqueName('rs_batch');
  const engines: PostgresEngine[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  let queries: jest.SpyInstance;

  const open = async (table: string, testClock?: ManualClock, storeId = uniqueName('batch')) => {
    const e = new PostgresEngine(
      pgContext({ schemaName: schema, tableName: table }, { storeId, testClock }),
    );
    engines.push(e);
    await e.connect();
    return e;
  };
  /** Runs `fn` and returns its result with the text of every statement sent meanwhile. */
  const sent = async <T>(fn: () => Promise<T>): Promise<{ result: T; texts: string[] }> => {
    queries.mockClear();
    const result = await fn();
    return {
      result,
      texts: queries.mock.calls.map(([q]) =>
        typeof q === 'string' ? q : (q as { text: string }).text,
      ),
    };
  };
  /** Checks the rows of the keys of `requests`: as the model left them, decided at `now`. */
  const expectRows = async (table: string, requests: AcquireRequest[], m: Model, now: number) => {
    const keys = [...new Set(requests.map((r) => r.key))].sort();
    const { rows } = await withClient((c) =>
      c.query(
        `SELECT key, tat, expires_at, prev_tat, decided_at FROM "${schema}"."${table}"
          WHERE key = ANY ($1) ORDER BY key`,
        [keys],
      ),
    );
    expect(rows).toEqual(
      keys.map((key) => ({
        key,
        tat: m.tat.get(key) ?? null,
        // A row created for decisions that were all rejected expires at once (0).
        expires_at: m.tat.get(key) ?? 0,
        prev_tat: m.prev.get(key),
        decided_at: now,
      })),
    );
  };
  /** A session holding `key`'s row lock (in an open transaction). */
  const lockRow = async (pool: Pool, table: string, key: string): Promise<PoolClient> => {
    const c = await pool.connect();
    await c.query('BEGIN');
    await c.query(`SELECT 1 FROM "${schema}"."${table}" WHERE key = $1 FOR UPDATE`, [key]);
    return c;
  };
  /** The pid of a backend of store `storeId` waiting for a row lock, once there is one. */
  const blockedBackend = (storeId: string): Promise<number> =>
    pollFor(() =>
      withClient(async (c) => {
        const { rows } = await c.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [`rate-sync:${storeId}`],
        );
        return rows[0]?.pid as number | undefined;
      }),
    );

  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  beforeEach(() => (queries = jest.spyOn(Client.prototype, 'query')));
  afterEach(async () => {
    queries.mockRestore();
    await Promise.all(engines.splice(0).map((e) => e.close()));
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await dropSchema(schema);
  });

  it('decides a tick in one round trip, exactly as the reference model in arrival order', async () => {
    const clock = new ManualClock();
    const e = await open('exact', clock);
    const m = model();
    // State before the batch, one decision per tick: the one-statement path.
    const full = req(tb, 'full', 1, Infinity);
    for (const r of [req(tb, 'hot', 2), req(thirds, 'y'), ...Array<AcquireRequest>(6).fill(full)]) {
      const { result, texts } = await sent(() => e.acquire([r]));
      expect(result).toEqual(replay(m, clock.now(), [r]));
      expect(texts).toEqual([statements(e.names).acquireTokenBucket]);
    }
    await clock.advance(130);

    const rnd = prng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const tick = shuffle(
      [
        ...Array.from({ length: 24 }, () =>
          req(tb, 'hot', pick([1, 1, 2, 3]), pick([0, 0, 150, 420.5, Infinity])),
        ),
        req(tb, 'new'),
        req(tb, 'new', 4),
        req(thirds, 'y', 2, 500),
        req(thirds, 'y', 1),
        req(thirds, 'fresh', 2),
        req(tb, 'full'),
        req(tb, 'full', 1, 50),
      ],
      rnd,
    );
    const { result, texts } = await sent(() => Promise.all(tick.map((r) => e.acquire([r]))));
    const expected = replay(m, clock.now(), tick);

    expect(texts).toEqual([statements(e.names).batch]);
    expect(result.map(([d]) => d)).toEqual(expected);
    // Not a vacuous agreement: admissions now, reserved waits and rejections all occur, and
    // 'full' (exhausted before the tick) rejects everything.
    expect(expected.some((d) => d.allowed && d.waitMs === 0)).toBe(true);
    expect(expected.some((d) => d.allowed && d.waitMs > 0)).toBe(true);
    expect(expected.filter((d) => !d.allowed).length).toBeGreaterThan(4);
    expect(tick.every((r, i) => r.key !== full.key || !expected[i].allowed)).toBe(true);
    await expectRows('exact', tick, m, clock.now());
  });

  it(`sends a tick of more than ${MAX_BATCH} decisions as several calls`, async () => {
    const clock = new ManualClock();
    const e = await open('split', clock);
    // 100 keys, each asked three times for 2 of its burst of 4: the third ask of some keys
    // lands in the second call, which may run first. Whatever the order, two asks pass.
    const tick = Array.from({ length: MAX_BATCH + 44 }, (_, i) => req(tb, `k${i % 100}`, 2));
    const { result, texts } = await sent(() => Promise.all(tick.map((r) => e.acquire([r]))));
    expect(texts).toEqual([statements(e.names).batch, statements(e.names).batch]);
    const admitted = new Map<string, number>();
    result.forEach(([d], i) => {
      if (d.allowed) admitted.set(tick[i].key, (admitted.get(tick[i].key) ?? 0) + 1);
    });
    expect([...admitted.values()]).toEqual(Array(100).fill(2));
  });

  it('never deadlocks nor over-admits when several processes batch the same keys in any order', async () => {
    const clock = new ManualClock();
    const processes = await Promise.all([1, 2, 3].map(() => open('shared', clock)));
    const keys = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const admitted = new Map<string, number>();
    await Promise.all(
      processes.map(async (e, p) => {
        const rnd = prng(p + 1);
        for (let tick = 0; tick < 8; tick++) {
          const batch = shuffle([...keys, ...keys, ...keys], rnd).map((k) => req(tb, k));
          const ds = await Promise.all(batch.map((r) => e.acquire([r])));
          ds.forEach(([d], i) => {
            if (d.allowed) admitted.set(batch[i].key, (admitted.get(batch[i].key) ?? 0) + 1);
          });
        }
      }),
    );
    // The clock stands still: each key admits exactly its burst, whoever asks.
    expect(Object.fromEntries(admitted)).toEqual(
      Object.fromEntries(keys.map((k) => [storageKey('b', k), tb.gcra!.burst])),
    );
  });

  it('recreates a row deleted while the batch waited for its lock, as a key without state', async () => {
    const storeId = uniqueName('deleted');
    const clock = new ManualClock();
    const e = await open('deleted', clock, storeId);
    const m = model();
    for (const r of [req(tb, 'gone', 4), req(tb, 'kept', 3)]) {
      await e.acquire([r]);
      replay(m, clock.now(), [r]);
    }
    const other = new Pool({ connectionString: PG_URL, max: 1 });
    try {
      const gone = storageKey('b', 'gone');
      const holder = await lockRow(other, 'deleted', gone);
      const tick = [req(tb, 'gone'), req(tb, 'kept'), req(tb, 'gone', 3)];
      const pending = Promise.all(tick.map((r) => e.acquire([r])));
      await blockedBackend(storeId);
      await holder.query(`DELETE FROM "${schema}"."deleted" WHERE key = $1`, [gone]);
      await holder.query('COMMIT');
      holder.release();
      m.tat.delete(gone);
      expect((await pending).map(([d]) => d)).toEqual(replay(m, clock.now(), tick));
      await expectRows('deleted', tick, m, clock.now());
    } finally {
      await other.end();
    }
  });

  it('a terminated backend rejects every decision of its batch, and the next tick decides', async () => {
    const storeId = uniqueName('killed');
    const e = await open('killed', undefined, storeId);
    await e.acquire([req(tb, 'locked')]);
    const other = new Pool({ connectionString: PG_URL, max: 1 });
    try {
      const holder = await lockRow(other, 'killed', storageKey('b', 'locked'));
      const tick = [req(tb, 'a'), req(tb, 'locked'), req(tb, 'b')];
      const pending = Promise.allSettled(tick.map((r) => e.acquire([r])));
      const pid = await blockedBackend(storeId);
      await holder.query('SELECT pg_terminate_backend($1)', [pid]);
      await holder.query('ROLLBACK');
      holder.release();
      const results = await pending;
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as Error;
        expect(err).toBeInstanceOf(RateSyncError);
        expect(err.message).toMatch(/\(postgres\): acquire_tb_batch failed: /);
      }
      const again = await Promise.all(tick.map((r) => e.acquire([r])));
      expect(again.map(([d]) => d.allowed)).toEqual([true, true, true]);
    } finally {
      await other.end();
    }
  });

  it('close() fails the decisions still queued at once, as calls after it', async () => {
    const e = await open('closing');
    const t0 = performance.now();
    const { result, texts } = await sent(
      () =>
        // From a callback, not a promise continuation: there the tick's flush would run before
        // close() goes on, and reach a pool being ended.
        new Promise<PromiseSettledResult<LayerDecision[]>[]>((resolve, reject) =>
          setImmediate(() => {
            const pending = ['x', 'y', 'z'].map((id) => e.acquire([req(tb, id)]));
            e.close().then(() => resolve(Promise.allSettled(pending)), reject);
          }),
        ),
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(texts).toEqual([]);
    for (const r of result) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RateSyncError);
      expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(
        /acquire_tb_batch called after the postgres engine was closed/,
      );
    }
  });
});
