/*
 * The PostgreSQL bench: longer than ~150 lines because its four contenders, their table set-up
 * and the goals read best side by side.
 *
 * Every contender gets a fresh table, the same pool size, and a key distribution (one hot key,
 * or 10,000 keys): rate-sync through the facade (logged and UNLOGGED tables, the default
 * synchronous_commit = off), rate-limiter-flexible's RateLimiterPostgres (a fixed window, as its
 * README sets it up: logged table, the server's synchronous_commit), and a raw single-statement
 * upsert counter from `pg` with the same durability settings as ours.
 */
import { Pool, type PoolConfig } from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { RateSync } from '../../lib/core';
import { manyKeys, oneKey, type KeySet } from '../lib/key-set';
import { silentLogger } from '../lib/silent-logger';
import { measureAdmissions } from '../measure';
import { costGoal, find, ratioGoal } from '../report/goals';
import { CLIENT_CPU, ONE_CALL_WARMUP, oneInFlight, SERVER_TIME } from '../lib/one-in-flight';
import { privatePostgres, statementTime, type PrivatePostgres } from '../lib/private-postgres';
import { runRounds, type RoundEntry, type Sample } from '../rounds';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';
import { consumed } from '../lib/flexible';

/** The server: `BENCH_DATABASE_URL`, else `DATABASE_URL`, else the local default. */
const URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
/** Connections per contender (the same for all). */
const POOL_SIZE = 16;
const SCHEMA = `rs_bench_${process.pid}`;

const WHO = {
  ours: 'rate-sync (logged, synchronous_commit off)',
  oursUnlogged: 'rate-sync (UNLOGGED)',
  rlf: 'rate-limiter-flexible RateLimiterPostgres (fixed window, logged, server synchronous_commit)',
  raw: 'raw pg INSERT ... ON CONFLICT DO UPDATE RETURNING (logged, synchronous_commit off)',
  rawUnlogged: 'raw pg INSERT ... ON CONFLICT DO UPDATE RETURNING (UNLOGGED)',
} as const;

interface Prepared {
  op(key: string): Promise<boolean>;
  close(): Promise<void>;
}
type Contender = { readonly name: string; prepare(): Promise<Prepared> };

let tables = 0;
const tableName = (who: string): string => `${who}_${++tables}`;

/** A pool for the peers; `syncOff` sets synchronous_commit = off for its sessions. */
function peerPool(syncOff: boolean, url = URL): Pool {
  const config: PoolConfig = { connectionString: url, max: POOL_SIZE };
  if (syncOff) config.options = '-c synchronous_commit=off';
  return new Pool(config);
}

/** rate-sync through the facade, on a token bucket the run never exhausts (every call writes). */
function ours(unlogged: boolean, url = URL): Contender {
  return {
    name: unlogged ? WHO.oursUnlogged : WHO.ours,
    prepare: async () => {
      const rs = new RateSync(
        {
          stores: {
            pg: {
              engine: 'postgres',
              url,
              schemaName: SCHEMA,
              tableName: tableName('rs'),
              unlogged,
              poolMaxSize: POOL_SIZE,
            },
          },
          limiters: { bench: { store: 'pg', ratePerSecond: 100_000, burst: 10_000_000 } },
        },
        { logger: silentLogger },
      );
      await rs.connect();
      return {
        op: (key) => rs.tryAcquire('bench', { key }).then((p) => p !== null),
        close: () => rs.close(),
      };
    },
  };
}

/** rate-limiter-flexible as its README shows it, with a limit the run never reaches. */
function flexible(url = URL): Contender {
  return {
    name: WHO.rlf,
    prepare: async () => {
      const pool = peerPool(false, url);
      const rl = await new Promise<RateLimiterPostgres>((resolve, reject) => {
        const limiter: RateLimiterPostgres = new RateLimiterPostgres(
          {
            storeClient: pool,
            schemaName: SCHEMA,
            tableName: tableName('rlf'),
            points: 1e9,
            duration: 1,
            clearExpiredByTimeout: false,
          },
          (err?: Error) => (err ? reject(err) : resolve(limiter)),
        );
      });
      return {
        op: (key) => consumed(rl.consume(key)),
        close: () => pool.end(),
      };
    },
  };
}

/** The floor any SQL limiter stands on: one upsert statement per call, nothing else. */
function rawUpsert(unlogged: boolean, url = URL): Contender {
  return {
    name: unlogged ? WHO.rawUnlogged : WHO.raw,
    prepare: async () => {
      const pool = peerPool(true, url);
      const table = `"${SCHEMA}"."${tableName('raw')}"`;
      await pool.query(
        `CREATE ${unlogged ? 'UNLOGGED ' : ''}TABLE ${table} (key text PRIMARY KEY, n bigint NOT NULL, at timestamptz NOT NULL)`,
      );
      const text =
        `INSERT INTO ${table} AS t (key, n, at) VALUES ($1, 1, clock_timestamp()) ` +
        `ON CONFLICT (key) DO UPDATE SET n = t.n + 1, at = clock_timestamp() RETURNING n`;
      return {
        op: (key) => pool.query({ name: 'raw_upsert', text, values: [key] }).then(() => true),
        close: () => pool.end(),
      };
    },
  };
}

async function measureOnce(
  contender: Contender,
  keys: KeySet,
  concurrency: number,
  durationMs: number,
): Promise<Sample> {
  const prepared = await contender.prepare();
  try {
    return await measureAdmissions(
      (key) => prepared.op(key),
      (i) => keys.keyAt(i),
      concurrency,
      durationMs,
    );
  } finally {
    await prepared.close();
  }
}

/** The case of {@link oneCallCpu}. */
const ONE_CALL = 'one call in flight, one key: CPU and server time per decision';

/**
 * One call in flight on a private PostgreSQL with pg_stat_statements (see privatePostgres):
 * this process's CPU per decision and the server's statement time per decision. Without a
 * private server the row is measured on the bench server, without server time.
 */
async function oneCallCpu(
  make: (url: string) => Contender,
  calls: number,
  warmup: number,
  server: PrivatePostgres | undefined,
): Promise<Sample> {
  const url = server?.url ?? URL;
  const stats = server ? new Pool({ connectionString: url, max: 1 }) : undefined;
  const keys = oneKey();
  try {
    const prepared = await make(url).prepare();
    try {
      const sample = await oneInFlight(
        (key) => prepared.op(key),
        (i) => keys.keyAt(i),
        calls,
        stats && statementTime(stats),
        warmup,
      );
      const where = server ? 'private PostgreSQL' : 'not measured (no private server)';
      return { ...sample, extra: { ...sample.extra, 'server time counted on': where } };
    } finally {
      await prepared.close();
    }
  } finally {
    await stats?.end();
  }
}

async function withSchema<T>(fn: () => Promise<T>, url = URL): Promise<T> {
  const admin = new Pool({ connectionString: url, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
    return await fn();
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

export const postgresSuite: BenchSuite = {
  name: 'postgres',
  description:
    `PostgreSQL: RateSync.tryAcquire on the postgres engine against rate-limiter-flexible RateLimiterPostgres and a raw ` +
    `single-statement upsert counter; every contender with a fresh table and a pool of ${POOL_SIZE} connections. ` +
    `Rows at 1 in flight are wall clock, indicative only on a busy machine; "${ONE_CALL}" measures the same calls by this process's CPU time and, ` +
    "on a private PostgreSQL with pg_stat_statements, by the server's own statement time.",
  async available(): Promise<true | string> {
    const pool = new Pool({ connectionString: URL, max: 1, connectionTimeoutMillis: 3000 });
    try {
      await pool.query('SELECT 1');
      return true;
    } catch (err) {
      return `PostgreSQL is not reachable (${(err as Error).message || (err as NodeJS.ErrnoException).code}); set BENCH_DATABASE_URL`;
    } finally {
      await pool.end();
    }
  },
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const keySets = [oneKey(), manyKeys(options.smoke ? 1_000 : 10_000)];
    const concurrencies = options.smoke ? [1, 16] : [1, 16, 64];
    const contenders = [ours(false), ours(true), flexible(), rawUpsert(false), rawUpsert(true)];
    const entries: RoundEntry[] = [];
    for (const keys of keySets) {
      for (const concurrency of concurrencies) {
        for (const contender of contenders) {
          entries.push({
            case: `${keys.label}, limit never reached`,
            contender: contender.name,
            concurrency,
            run: () => measureOnce(contender, keys, concurrency, options.durationMs),
          });
        }
      }
    }
    const wantOneCall = !options.caseFilter || ONE_CALL.includes(options.caseFilter);
    const server = wantOneCall ? await privatePostgres() : undefined;
    const calls = options.smoke ? 200 : 3000;
    const warmup = options.smoke ? 20 : ONE_CALL_WARMUP;
    const oneCall: ((url: string) => Contender)[] = [
      (url) => ours(false, url),
      (url) => flexible(url),
      (url) => rawUpsert(false, url),
    ];
    for (const make of oneCall) {
      entries.push({
        case: ONE_CALL,
        contender: make(URL).name,
        concurrency: 1,
        run: () => oneCallCpu(make, calls, warmup, server),
      });
    }
    try {
      const inPrivate = (fn: () => Promise<BenchRow[]>) =>
        server ? () => withSchema(fn, server.url) : fn;
      return await withSchema(inPrivate(() => runRounds(this.name, entries, options)));
    } finally {
      await server?.stop();
    }
  },
  goals(rows: readonly BenchRow[]): GoalCheck[] {
    const one = (who: string): BenchRow | undefined =>
      find(rows, { case: ONE_CALL, contender: who });
    const goals: GoalCheck[] = [
      costGoal(
        'one call in flight: client CPU per decision <= 1.1x the raw upsert',
        CLIENT_CPU,
        one(WHO.ours),
        one(WHO.raw),
        { max: 1.1 },
      ),
      costGoal(
        'one call in flight: server time per decision <= 2x the raw upsert',
        SERVER_TIME,
        one(WHO.ours),
        one(WHO.raw),
        { max: 2 },
      ),
    ];
    for (const c of [...new Set(rows.map((r) => r.case))].filter((c) => c !== ONE_CALL)) {
      const hot = c.startsWith('one key');
      // One call in flight is judged on CPU time (above): its wall clock on a busy machine
      // measures the scheduler as much as the work.
      for (const concurrency of [...new Set(rows.map((r) => r.concurrency))].filter((n) => n > 1)) {
        const at = (who: string): BenchRow | undefined =>
          find(rows, { case: c, contender: who, concurrency });
        goals.push(
          ratioGoal(
            `${c}, ${concurrency} in flight: rate-sync >= ${hot ? 3 : 1.5}x rate-limiter-flexible`,
            at(WHO.ours),
            at(WHO.rlf),
            hot ? 3 : 1.5,
          ),
          ratioGoal(
            `${c}, ${concurrency} in flight: rate-sync >= 80% of the raw upsert (logged)`,
            at(WHO.ours),
            at(WHO.raw),
            0.8,
          ),
          ratioGoal(
            `${c}, ${concurrency} in flight: rate-sync >= 80% of the raw upsert (UNLOGGED)`,
            at(WHO.oursUnlogged),
            at(WHO.rawUnlogged),
            0.8,
          ),
        );
      }
    }
    return goals;
  },
};
