/*
 * The Redis bench: longer than ~150 lines because it holds three measurements (allow path,
 * deny path, contended waiting) with their contenders and goals, which read best together.
 */
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RateSync, storageKey, type LimiterOptions } from '../../lib/core';
import { RedisEngine } from '../../lib/core/engines/redis';
import { systemClock } from '../../lib/core/clock';
import { toPolicy } from '../../lib/core/policy';
import { manyKeys, oneKey, type KeySet } from '../lib/key-set';
import { silentLogger } from '../lib/silent-logger';
import { measureAdmissions } from '../measure';
import { find, ratioGoal } from '../report/goals';
import { runRounds, type RoundEntry, type Sample } from '../rounds';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';
import { consumed } from '../lib/flexible';
import { whyRedisUnreachable } from '../lib/redis-probe';

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
};

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

function facade(limiter: Omit<LimiterOptions, 'store'>): Contender {
  return {
    name: ALLOW.facade,
    prepare: async () => {
      const rs = new RateSync(
        {
          stores: { r: { engine: 'redis', url: URL, keyPrefix: prefixOf('rs') } },
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

function engine(limiter: Omit<LimiterOptions, 'store'>): Contender {
  return {
    name: ALLOW.engine,
    prepare: async () => {
      const e = new RedisEngine({
        storeId: 'r',
        options: { engine: 'redis', url: URL, keyPrefix: prefixOf('eng') },
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

/** rate-limiter-flexible as its README shows it, without the in-memory block or insurance. */
function flexible(points: number): Contender {
  return {
    name: ALLOW.rlf,
    prepare: async () => {
      const client = new Redis(URL, { enableOfflineQueue: false });
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
 * A private `redis-server` on a spare port, so that the commands counted are ours alone; or,
 * when the binary is missing, the bench Redis (then other clients' commands may be counted).
 */
async function privateRedis(): Promise<{ url: string; label: string; stop(): void }> {
  const port = 20000 + Math.floor(Math.random() * 5000);
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  let started = false;
  proc.once('error', () => undefined); // no redis-server binary: fall back below
  for (let i = 0; i < 100 && !started && proc.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => undefined);
    started = await probe.connect().then(
      () => true,
      () => false,
    );
    probe.disconnect();
  }
  if (started)
    return {
      url: `redis://127.0.0.1:${port}`,
      label: 'private redis-server',
      stop: () => proc.kill('SIGKILL'),
    };
  proc.kill('SIGKILL');
  return { url: URL, label: 'shared bench Redis', stop: () => undefined };
}

/**
 * 200 callers each acquiring in a loop (waiting up to 30 s) on one 100/s token bucket: the
 * admitted rate over the steady part, and the client commands per admission.
 */
async function contendedWaiting(durationMs: number): Promise<Sample> {
  const server = await privateRedis();
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
  description: `The Redis engine (through RateSync and bare) against a raw ioredis EVALSHA of a one-key script and rate-limiter-flexible RateLimiterRedis.consume, on ${URL.replace(/\/\/[^@/]*@/, '//***@')}.`,
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
        for (const c of [facade(never), engine(never), raw(), flexible(UNREACHED)]) {
          entries.push({
            case: `allow path, ${keys.label}`,
            contender: c.name,
            concurrency,
            run: () => measureOnce(c, keys, concurrency, options.durationMs),
          });
        }
      }
    }
    for (const c of [facade(limited), engine(limited), flexible(LIMIT)]) {
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
      for (const concurrency of new Set(allow.map((r) => r.concurrency))) {
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
