import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateSync, type LimiterOptions } from '../../lib/core';
import { manyKeys, oneKey, type KeySet } from '../lib/key-set';
import { silentLogger } from '../lib/silent-logger';
import { measureAdmissions } from '../measure';
import { runRounds, type RoundEntry, type Sample } from '../rounds';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';
import { costGoal, find } from '../report/goals';
import { consumed } from '../lib/flexible';

/**
 * "Never reached" for the token bucket: 100,000/s with a burst of 10 million, more than one
 * process can take in a run. (A faster rate such as 1e9/s is no good: its emission interval,
 * 1e-6 ms, is finer than a double resolves at today's epoch milliseconds, about 2.4e-4 ms.)
 */
const UNREACHED_TOKEN_BUCKET = { ratePerSecond: 100_000, burst: 10_000_000 };
/** "Never reached" for rate-limiter-flexible: a billion points per second. */
const UNREACHED_POINTS = 1e9;
/** The extra column: this process's CPU per call (the latency numbers are wall clock). */
const CPU = 'CPU ns/op';
/** The realistic limit: 100 per second per key. */
const LIMIT = 100;

/** A contender set up with fresh state: its operation (true when admitted) and its teardown. */
interface Prepared {
  op(key: string): Promise<boolean>;
  close(): Promise<void>;
  /** Milliseconds to idle after the run so the contender's own timers do not fall into the next run. */
  readonly settleMs?: number;
}

type Contender = { readonly name: string; prepare(keys: KeySet, smoke: boolean): Prepared };

function rateSync(name: string, limiter: Omit<LimiterOptions, 'store'>): Contender {
  return {
    name,
    prepare: () => {
      const rs = new RateSync(
        {
          stores: { mem: { engine: 'memory' } },
          limiters: { bench: { store: 'mem', ...limiter } },
        },
        { logger: silentLogger },
      );
      void rs.connect();
      return {
        op: (key) => rs.tryAcquire('bench', { key }).then((permit) => permit !== null),
        close: () => rs.close(),
      };
    },
  };
}

/** rate-limiter-flexible as its README shows it: `new RateLimiterMemory({ points, duration })`. */
function flexible(name: string, points: number): Contender {
  return {
    name,
    prepare: (keys, smoke) => {
      const rl = new RateLimiterMemory({ points, duration: 1 });
      return {
        op: (key) => consumed(rl.consume(key)),
        close: async () => undefined,
        // It keeps one timer per key and window (1 s): let them fire before the next contender runs.
        settleMs: keys.size > 1 && !smoke ? 1100 : 0,
      };
    },
  };
}

function cases(smoke: boolean): { keys: KeySet; limit: string; contenders: Contender[] }[] {
  const hundredThousand = manyKeys(smoke ? 1_000 : 100_000);
  const unreached = [
    rateSync('rate-sync token bucket', UNREACHED_TOKEN_BUCKET),
    flexible('rate-limiter-flexible RateLimiterMemory', UNREACHED_POINTS),
  ];
  const limited = [
    rateSync('rate-sync token bucket', { ratePerSecond: LIMIT, burst: LIMIT }),
    rateSync('rate-sync sliding window', {
      algorithm: 'sliding_window',
      limit: LIMIT,
      windowSeconds: 1,
    }),
    flexible('rate-limiter-flexible RateLimiterMemory', LIMIT),
  ];
  return [
    { keys: oneKey(), limit: 'limit never reached', contenders: unreached },
    { keys: oneKey(), limit: `${LIMIT} per second`, contenders: limited },
    { keys: hundredThousand, limit: 'limit never reached', contenders: unreached },
    { keys: hundredThousand, limit: `${LIMIT} per second`, contenders: limited },
  ];
}

async function measureOnce(
  contender: Contender,
  keys: KeySet,
  concurrency: number,
  options: BenchOptions,
): Promise<Sample> {
  const prepared = contender.prepare(keys, options.smoke);
  // Collect the previous contender's garbage now rather than during this run (needs --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const m = await measureAdmissions(
    (key) => prepared.op(key),
    (i) => keys.keyAt(i),
    concurrency,
    options.durationMs,
  );
  await prepared.close();
  if (prepared.settleMs) await new Promise((r) => setTimeout(r, prepared.settleMs));
  const { cpuNsPerOp, ...sample } = m;
  return { ...sample, extra: { ...m.extra, [CPU]: Math.round(cpuNsPerOp) } };
}

export const coreMemorySuite: BenchSuite = {
  name: 'core-memory',
  description:
    'RateSync.tryAcquire on the memory engine against rate-limiter-flexible RateLimiterMemory.consume, in process, no HTTP.',
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const concurrencies = options.smoke ? [1, 16] : [1, 16, 256];
    const entries: RoundEntry[] = [];
    for (const c of cases(options.smoke)) {
      for (const concurrency of concurrencies) {
        for (const contender of c.contenders) {
          entries.push({
            case: `${c.keys.label}, ${c.limit}`,
            contender: contender.name,
            concurrency,
            run: () => measureOnce(contender, c.keys, concurrency, options),
          });
        }
      }
    }
    return runRounds(this.name, entries, options);
  },
  goals(rows: readonly BenchRow[]): GoalCheck[] {
    const at = (c: string | undefined, who: string): BenchRow | undefined =>
      c === undefined ? undefined : find(rows, { case: c, contender: who, concurrency: 1 });
    const caseOf = (prefix: string): string | undefined =>
      rows.find((r) => r.case.startsWith(prefix))?.case;
    const never = caseOf('one key, limit never reached');
    const limited = caseOf(`one key, ${LIMIT} per second`);
    const peer = 'rate-limiter-flexible RateLimiterMemory';
    // Judged on CPU per call: the machine may be shared, and a wall-clock loop counts the others.
    return [
      costGoal(
        'token bucket, one key, 1 in flight: CPU per call <= rate-limiter-flexible RateLimiterMemory',
        CPU,
        at(never, 'rate-sync token bucket'),
        at(never, peer),
        { max: 1 },
      ),
      costGoal(
        `sliding window, one key at ${LIMIT}/s, 1 in flight: CPU per call <= rate-limiter-flexible RateLimiterMemory`,
        CPU,
        at(limited, 'rate-sync sliding window'),
        at(limited, peer),
        { max: 1 },
      ),
    ];
  },
};
