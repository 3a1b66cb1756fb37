/*
 * The Redis bench: longer than ~150 lines because it holds three measurements (allow path,
 * deny path, contended waiting) with their contenders and goals, which read best together.
 */
import Redis from 'ioredis';
import { createClient } from 'redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RateSync, storageKey, type LimiterOptions } from '../../lib/core';
import { RedisEngine } from '../../lib/core/engines/redis';
import { systemClock } from '../../lib/core/clock';
import { toPolicy } from '../../lib/core/policy';
import { manyKeys, oneKey, type KeySet } from '../lib/key-set';
import { silentLogger } from '../lib/silent-logger';
import { measureAdmissions } from '../measure';
import { costGoal, find, ratioGoal } from '../report/goals';
import { runRounds, type RoundEntry, type Sample } from '../rounds';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';
import { consumed } from '../lib/flexible';
import { whyRedisUnreachable } from '../lib/redis-probe';
import { privateRedis, scriptTime } from '../lib/private-redis';
import { CLIENT_CPU, ONE_CALL_WARMUP, oneInFlight, SERVER_TIME } from '../lib/one-in-flight';

/** The Redis to measure on: `BENCH_REDIS_URL`, else `REDIS_URL`, else the local default. A quiet one: commands are counted server-wide. */
const URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const UNREACHED = 1e9;
const LIMIT = 100;
const TRIVIAL_LUA = "return redis.call('INCR', KEYS[1])";

const ALLOW = {
  facade: 'rate-sync RateSync.tryAcquire',
  engine: 'rate-sync RedisEngine.acquire',
  raw: 'raw ioredis EVALSHA (one-key INCR script)',
  rlf: 'rate-limiter-flexible RateLimiterRedis',
  facadeNode: 'rate-sync RateSync.tryAcquire (node-redis driver)',
  engineNode: 'rate-sync RedisEngine.acquire (node-redis driver)',
  rawNode: 'raw node-redis EVALSHA (one-key INCR script)',
};

/** The store option of each driver, and the suffix of its rows' names. */
type Driver = 'ioredis' | 'node-redis';

interface Prepared {
  op(key: string): Promise<boolean>;
  close(): Promise<void>;
}
type Contender = { readonly name: string; prepare(): Promise<Prepared> };

let run = 0;
const prefixOf = (who: string): string => `rs_bench_${who}_${process.pid}_${++run}`;

/** Deletes every key under a prefix (SCAN + UNLINK), so the bench leaves nothing behind. */
async function sweep(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

function facade(
  limiter: Omit<LimiterOptions, 'store'>,
  url = URL,
  driver: Driver = 'ioredis',
): Contender {
  return {
    name: driver === 'ioredis' ? ALLOW.facade : ALLOW.facadeNode,
    prepare: async () => {
      const rs = new RateSync(
        {
          stores: { r: { engine: 'redis', driver, url, keyPrefix: prefixOf('rs') } },
          limiters: { bench: { store: 'r', ...limiter } },
        },
        { logger: silentLogger },
      );
      await rs.connect();
      return {
        op: (key) => rs.tryAcquire('bench', { key }).then((p) => p !== null),
        close: async () => {
          await rs.reset('bench');
          await rs.close();
        },
      };
    },
  };
}

function engine(limiter: Omit<LimiterOptions, 'store'>, driver: Driver = 'ioredis'): Contender {
  return {
    name: driver === 'ioredis' ? ALLOW.engine : ALLOW.engineNode,
    prepare: async () => {
      const e = new RedisEngine({
        storeId: 'r',
        options: { engine: 'redis', driver, url: URL, keyPrefix: prefixOf('eng') },
        clock: systemClock,
        logger: silentLogger,
      });
      await e.connect();
      const policy = toPolicy('bench', { store: 'r', ...limiter });
      return {
        op: (key) =>
          e
            .acquire([{ policy, key: storageKey('bench', key), cost: 1, maxWaitMs: 0 }])
            .then((d) => d[0].allowed),
        close: async () => {
          await e.reset(policy);
          await e.close();
        },
      };
    },
  };
}

function raw(): Contender {
  return {
    name: ALLOW.raw,
    prepare: async () => {
      const client = new Redis(URL);
      const sha = (await client.script('LOAD', TRIVIAL_LUA)) as string;
      const prefix = prefixOf('raw');
      return {
        op: (key) => client.evalsha(sha, 1, `${prefix}:${key}`).then(() => true),
        close: async () => {
          await sweep(client, prefix);
          client.disconnect();
        },
      };
    },
  };
}

/** The same one-key script by EVALSHA on a node-redis client (RESP2, as the store's own). */
function rawNode(): Contender {
  return {
    name: ALLOW.rawNode,
    prepare: async () => {
      const client = createClient({ url: URL, RESP: 2 });
      await client.connect();
      const sha = await client.scriptLoad(TRIVIAL_LUA);
      const prefix = prefixOf('rawnr');
      return {
        op: (key) => client.evalSha(sha, { keys: [`${prefix}:${key}`] }).then(() => true),
        close: async () => {
          const sweeper = new Redis(URL);
          await sweep(sweeper, prefix);
          sweeper.disconnect();
          client.destroy();
        },
      };
    },
  };
}

/** rate-limiter-flexible as its README shows it, without the in-memory block or insurance. */
function flexible(points: number, url = URL): Contender {
  return {
    name: ALLOW.rlf,
    prepare: async () => {
      const client = new Redis(url, { enableOfflineQueue: false });
      await new Promise((r) => client.once('ready', r));
      const keyPrefix = prefixOf('rlf');
      const rl = new RateLimiterRedis({ storeClient: client, points, duration: 1, keyPrefix });
      return {
        op: (key) => consumed(rl.consume(key)),
        close: async () => {
          await sweep(client, keyPrefix);
          client.disconnect();
        },
      };
    },
  };
}

/**
 * The least a one-decision script can do: read the server clock, read the key, write it back
 * with an expiry (TIME, GET, SET PX), by EVALSHA. The floor of "server time per decision".
 */
const FLOOR_LUA =
  "local t = redis.call('TIME'); local v = redis.call('GET', KEYS[1]); " +
  "redis.call('SET', KEYS[1], t[1], 'PX', 1000); return v";
const FLOOR = 'raw ioredis EVALSHA (TIME + GET + SET PX script)';

function floorScript(url: string): Contender {
  return {
    name: FLOOR,
    prepare: async () => {
      const client = new Redis(url);
      const sha = (await client.script('LOAD', FLOOR_LUA)) as string;
      const prefix = prefixOf('floor');
      return {
        op: (key) => client.evalsha(sha, 1, `${prefix}:${key}`).then(() => true),
        close: async () => {
          await sweep(client, prefix);
          client.disconnect();
        },
      };
    },
  };
}

/** The case of {@link oneCallCpu}: CPU time and server time per decision, one call in flight. */
const ONE_CALL = 'one call in flight, one key: CPU and server time per decision';

/**
 * One call in flight on a private redis-server (its commandstats are ours alone): this
 * process's CPU per decision and the server's script time per decision. Without a private
 * server (no redis-server binary) the server time is left out: the bench Redis counts others.
 */
async function oneCallCpu(
  make: (url: string) => Contender,
  calls: number,
  warmup: number,
): Promise<Sample> {
  const server = await privateRedis(URL);
  const stats = new Redis(server.url);
  try {
    const prepared = await make(server.url).prepare();
    const keys = oneKey();
    const own = server.url !== URL ? scriptTime(stats) : undefined;
    const sample = await oneInFlight(
      (key) => prepared.op(key),
      (i) => keys.keyAt(i),
      calls,
      own,
      warmup,
    );
    await prepared.close();
    return { ...sample, extra: { ...sample.extra, 'server time counted on': server.label } };
  } finally {
    stats.disconnect();
    server.stop();
  }
}

async function measureOnce(
  c: Contender,
  keys: KeySet,
  concurrency: number,
  durationMs: number,
): Promise<Sample> {
  const p = await c.prepare();
  const m = await measureAdmissions(
    (key) => p.op(key),
    (i) => keys.keyAt(i),
    concurrency,
    durationMs,
  );
  await p.close();
  return m;
}

/**
 * Commands clients sent, from INFO commandstats. Redis also counts the commands a script runs
 * (TIME, GET, SET... inside our Lua) under their own names; those are not round trips, so only
 * the commands a client can send on its own are summed here.
 */
async function clientCommands(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  const sent =
    /^cmdstat_(evalsha|eval|evalsha_ro|eval_ro|script|subscribe|unsubscribe|scan|ping|info|client|select|hello|auth):calls=(\d+)/gm;
  return [...info.matchAll(sent)].reduce((n, m) => n + Number(m[2]), 0);
}

/**
 * 200 callers each acquiring in a loop (waiting up to 30 s) on one 100/s token bucket: the
 * admitted rate over the steady part, and the client commands per admission.
 */
async function contendedWaiting(durationMs: number): Promise<Sample> {
  const server = await privateRedis(URL);
  const probe = new Redis(server.url);
  const rs = new RateSync(
    {
      stores: { r: { engine: 'redis', url: server.url, keyPrefix: prefixOf('wait') } },
      limiters: { wait: { store: 'r', ratePerSecond: LIMIT } },
    },
    { logger: silentLogger },
  );
  await rs.connect();
  const before = await clientCommands(probe);
  const start = Date.now();
  const end = start + durationMs;
  const times: number[] = [];
  let errors = 0;
  const waiter = async (): Promise<void> => {
    while (Date.now() < end) {
      try {
        await rs.acquire('wait', { timeout: 30 });
        times.push(Date.now());
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: 200 }, waiter));
  const commands = (await clientCommands(probe)) - before - 1; // minus the first INFO
  // The rate over the steady part: from 1 s in (after the first burst) to the end of the window.
  const steady = times.filter((t) => t >= start + 1000 && t <= end);
  const rate = steady.length / ((end - start - 1000) / 1000);
  await rs.reset('wait');
  await rs.close();
  probe.disconnect();
  server.stop();
  return {
    opsPerSec: rate,
    p50Ms: 0,
    p99Ms: 0,
    errors,
    extra: {
      'commands per admission': Math.round((commands / times.length) * 1000) / 1000,
      'target /s': LIMIT,
      'counted on': server.label,
    },
  };
}

export const redisSuite: BenchSuite = {
  name: 'redis',
  description:
    `The Redis engine (through RateSync and bare, on the ioredis driver and on the node-redis one) against a raw EVALSHA of a one-key script (ioredis and node-redis) and rate-limiter-flexible RateLimiterRedis.consume, on ${URL.replace(/\/\/[^@/]*@/, '//***@')}. ` +
    `Rows at 1 in flight are wall clock, indicative only on a busy machine; "${ONE_CALL}" measures the same call by this process's CPU time and, on a private redis-server, by the server's own script time (INFO commandstats).`,
  async available(): Promise<true | string> {
    const why = await whyRedisUnreachable(URL);
    return why === null ? true : `Redis not reachable (${why}); set BENCH_REDIS_URL`;
  },
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const allowKeys = [oneKey(), manyKeys(options.smoke ? 100 : 10_000)];
    const never = { ratePerSecond: UNREACHED, burst: UNREACHED };
    const limited = { ratePerSecond: LIMIT };
    const entries: RoundEntry[] = [];
    for (const keys of allowKeys) {
      for (const concurrency of options.smoke ? [16] : [1, 16, 64, 256]) {
        for (const c of [
          facade(never),
          engine(never),
          raw(),
          facade(never, URL, 'node-redis'),
          engine(never, 'node-redis'),
          rawNode(),
          flexible(UNREACHED),
        ]) {
          entries.push({
            case: `allow path, ${keys.label}`,
            contender: c.name,
            concurrency,
            run: () => measureOnce(c, keys, concurrency, options.durationMs),
          });
        }
      }
    }
    const calls = options.smoke ? 200 : 5000;
    const warmup = options.smoke ? 20 : ONE_CALL_WARMUP;
    const oneCall: ((url: string) => Contender)[] = [
      (url) => facade(never, url),
      (url) => flexible(UNREACHED, url),
      floorScript,
    ];
    for (const make of oneCall) {
      entries.push({
        case: ONE_CALL,
        contender: make(URL).name,
        concurrency: 1,
        run: () => oneCallCpu(make, calls, warmup),
      });
    }
    for (const c of [
      facade(limited),
      engine(limited),
      facade(limited, URL, 'node-redis'),
      flexible(LIMIT),
    ]) {
      entries.push({
        case: `deny path, one key at ${LIMIT}/s`,
        contender: c.name,
        concurrency: 64,
        run: () => measureOnce(c, oneKey(), 64, options.durationMs),
      });
    }
    entries.push({
      case: `contended waiting, 200 waiters at ${LIMIT}/s`,
      contender: 'rate-sync RateSync.acquire (waiting)',
      concurrency: 200,
      run: () => contendedWaiting(options.smoke ? 1500 : Math.max(5000, options.durationMs * 3)),
    });
    return runRounds(this.name, entries, options);
  },
  goals(rows: readonly BenchRow[]): GoalCheck[] {
    const goals: GoalCheck[] = [];
    const allow = rows.filter((r) => r.case.startsWith('allow path'));
    for (const keys of new Set(allow.map((r) => r.case.slice('allow path, '.length)))) {
      // One call in flight is judged on CPU time (the one-call case below): its wall clock
      // measures the scheduler of a busy machine as much as the work.
      for (const concurrency of new Set(allow.map((r) => r.concurrency).filter((c) => c > 1))) {
        const at = (who: string): BenchRow | undefined =>
          find(rows, { case: `allow path, ${keys}`, contender: who, concurrency });
        goals.push(
          ratioGoal(
            `allow path, ${keys}, ${concurrency} in flight: >= 95% of raw EVALSHA`,
            at(ALLOW.engine),
            at(ALLOW.raw),
            0.95,
          ),
        );
        goals.push(
          ratioGoal(
            `allow path, ${keys}, ${concurrency} in flight: >= rate-limiter-flexible`,
            at(ALLOW.engine),
            at(ALLOW.rlf),
            1,
          ),
        );
      }
    }
    const one = (who: string): BenchRow | undefined =>
      find(rows, { case: ONE_CALL, contender: who });
    goals.push(
      costGoal(
        'one call in flight: client CPU per decision <= rate-limiter-flexible',
        CLIENT_CPU,
        one(ALLOW.facade),
        one(ALLOW.rlf),
        { max: 1 },
      ),
      costGoal(
        'one call in flight: server time per decision <= 1.2x a TIME + GET + SET PX script',
        SERVER_TIME,
        one(ALLOW.facade),
        one(FLOOR),
        { max: 1.2 },
      ),
    );
    const deny = `deny path, one key at ${LIMIT}/s`;
    goals.push(
      ratioGoal(
        'deny path: >= 5x rate-limiter-flexible (no in-memory block)',
        find(rows, { case: deny, contender: ALLOW.facade }),
        find(rows, { case: deny, contender: ALLOW.rlf }),
        5,
      ),
    );
    const wait = rows.find((r) => r.case.startsWith('contended waiting'));
    const perAdmission = Number(wait?.extra?.['commands per admission'] ?? NaN);
    goals.push({
      goal: `contended waiting: ${LIMIT}/s within 2%`,
      met: !!wait && Math.abs(wait.opsPerSec - LIMIT) <= LIMIT * 0.02,
      detail: wait ? `${wait.opsPerSec.toFixed(1)}/s` : 'not measured',
    });
    goals.push({
      goal: 'contended waiting: <= 1.1 Redis commands per admission',
      met: perAdmission <= 1.1,
      detail: Number.isNaN(perAdmission) ? 'not measured' : `${perAdmission}`,
    });
    return goals;
  },
};
