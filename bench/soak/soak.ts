/**
 * `npm run soak`: mixed traffic from several worker processes on a private Redis and a private
 * PostgreSQL, both restarted in the middle, for `--minutes` (default 10). Reports what each
 * limiter admitted against the exact bound its settings allow over the run, the p99 decision
 * latency per minute, each process's memory at the start, after the first minute and at the
 * end, and the handles each worker left open after close(). Exits non-zero when a bound is
 * exceeded, memory grew after the first minute beyond noise, a call failed unexpectedly, or a
 * worker did not exit by itself. Not part of `npm test`.
 *
 *   npm run soak -- [--minutes 10] [--workers 4] [--rate 150] [--concurrency 8]
 *                   [--restart-at <minute>] [--outage 3] [--json <file>]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RateSync } from '../../lib/core';
import { validateConfig } from '../../lib/core/config';
import {
  BUCKETS,
  ENGINES,
  MAX_WAIT_S,
  limitersOf,
  memoryNow,
  mono,
  quantile,
  type EngineKind,
  type LimiterTally,
  type MemorySample,
  type WorkerMessage,
} from './limits';
import { HoldOverlap } from './overlap';
import { PrivatePostgres, PrivateRedis, sparePort, type SoakStore } from './servers';

interface Options {
  minutes: number;
  workers: number;
  rate: number;
  concurrency: number;
  restartAt: number;
  outage: number;
  json?: string;
}

const USAGE = `npm run soak -- [--minutes 10] [--workers 4] [--rate 150] [--concurrency 8]
                [--restart-at <minute, default half>] [--outage <seconds, default 3>] [--json <file>]
`;

export function parseArgs(argv: readonly string[]): Options {
  const o: Partial<Options> = {};
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) {
      throw new Error(`${flag} needs a number >= ${min}, got ${v ?? 'nothing'}\n${USAGE}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    i++;
    if (flag === '--minutes') o.minutes = num(flag, v, 0.1);
    else if (flag === '--workers') o.workers = Math.round(num(flag, v, 1));
    else if (flag === '--rate') o.rate = num(flag, v, 1);
    else if (flag === '--concurrency') o.concurrency = Math.round(num(flag, v, 1));
    else if (flag === '--restart-at') o.restartAt = num(flag, v, 0);
    else if (flag === '--outage') o.outage = num(flag, v, 0);
    else if (flag === '--json' && v) o.json = v;
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  const minutes = o.minutes ?? 10;
  return {
    minutes,
    workers: o.workers ?? 4,
    rate: o.rate ?? 150,
    concurrency: o.concurrency ?? 8,
    restartAt: o.restartAt ?? minutes / 2,
    outage: o.outage ?? 3,
    json: o.json,
  };
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface WorkerState {
  readonly proc: ChildProcess;
  ready?: MemorySample;
  firstMinute?: MemorySample;
  lastMinute?: MemorySample;
  /** Heap after each minute. */
  readonly heapPerMinute: number[];
  done?: Extract<WorkerMessage, { type: 'done' }>;
  exited: Promise<boolean>;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const stores: Record<EngineKind, SoakStore> = {
    redis: new PrivateRedis(await sparePort()),
    postgres: new PrivatePostgres(await sparePort()),
  };
  const workers: WorkerState[] = [];
  const cleanup = async (): Promise<void> => {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await Promise.all(Object.values(stores).map((s) => s.destroy().catch(() => undefined)));
    log('stores stopped and removed');
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    return await soak(opts, stores, workers);
  } finally {
    await cleanup();
  }
}

async function soak(
  opts: Options,
  stores: Record<EngineKind, SoakStore>,
  workers: WorkerState[],
): Promise<number> {
  const parentStart = memoryNow();
  await Promise.all(Object.values(stores).map((s) => s.start()));
  log(`redis ${stores.redis.url}, postgres ${stores.postgres.url}`);
  // Creates the PostgreSQL schema once, before the workers race to.
  const setup = new RateSync(
    validateConfig({
      data: {
        stores: { postgres: { engine: 'postgres', url: stores.postgres.url } },
        limiters: limitersOf('postgres'),
      },
      spelling: 'camel',
    }),
  );
  await setup.connect();
  await setup.close();

  const latency = new Map<string, number[]>(); // `${minute} ${engine}` -> histogram
  const overlap = new Map<string, HoldOverlap>();
  for (let i = 0; i < opts.workers; i++) {
    const proc = fork(
      join(__dirname, 'worker.js'),
      [
        stores.redis.url,
        stores.postgres.url,
        String(opts.rate),
        String(opts.concurrency),
        String(i + 1),
      ],
      { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const state: WorkerState = {
      proc,
      heapPerMinute: [],
      exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code === 0))),
    };
    proc.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') state.ready = m.memory;
      else if (m.type === 'done') state.done = m;
      else if (m.type === 'holds') {
        for (const [id, xs] of Object.entries(m.holds)) {
          let o = overlap.get(id);
          if (!o) overlap.set(id, (o = new HoldOverlap()));
          o.add(xs);
        }
      } else if (m.type === 'minute') {
        if (m.minute === 0) state.firstMinute = m.memory;
        state.lastMinute = m.memory;
        state.heapPerMinute.push(m.memory.heapUsed);
        for (const engine of ENGINES) {
          const key = `${m.minute} ${engine}`;
          const h = latency.get(key) ?? new Array<number>(BUCKETS).fill(0);
          m.latency[engine].forEach((n, i) => (h[i] += n));
          latency.set(key, h);
        }
      }
    });
    workers.push(state);
  }
  const deadline = Date.now() + 30_000;
  while (workers.some((w) => !w.ready)) {
    if (Date.now() > deadline) throw new Error('workers did not connect within 30 s');
    if (workers.some((w) => w.proc.exitCode !== null)) throw new Error('a worker exited at start');
    await sleep(50);
  }
  const t0 = mono() + 200;
  for (const w of workers) w.proc.send({ type: 'start', t0 });
  log(`${opts.workers} workers, ${opts.rate} calls/s each, for ${opts.minutes} min`);

  // The restart: both stores stopped at once, started again `outage` seconds later.
  const restartAtMs = opts.restartAt * 60_000;
  const endAtMs = opts.minutes * 60_000;
  const restart: { stoppedAt?: number; startedAt?: number } = {};
  const ticker = setInterval(() => {
    for (const o of overlap.values()) o.settle(mono() - 3000);
  }, 2000);
  if (restartAtMs < endAtMs) {
    await sleep(Math.max(0, t0 + restartAtMs - mono()));
    restart.stoppedAt = mono() - t0;
    await Promise.all(Object.values(stores).map((s) => s.stop()));
    log(`stores stopped at ${(restart.stoppedAt / 1000).toFixed(1)} s`);
    await sleep(opts.outage * 1000);
    await Promise.all(Object.values(stores).map((s) => s.start()));
    restart.startedAt = mono() - t0;
    for (const w of workers) w.proc.send({ type: 'restarted' });
    log(`stores started again at ${(restart.startedAt / 1000).toFixed(1)} s`);
  }
  await sleep(Math.max(0, t0 + endAtMs - mono()));
  for (const w of workers) w.proc.send({ type: 'stop' });
  log('traffic stopped; waiting for the workers to close and exit');
  const exitedInTime = await Promise.all(
    workers.map((w) => Promise.race([w.exited, sleep(30_000).then(() => false)])),
  );
  clearInterval(ticker);
  for (const o of overlap.values()) o.settle(Infinity);
  log('workers exited');

  return report(opts, stores, workers, exitedInTime, latency, overlap, restart, parentStart);
}

function report(
  opts: Options,
  stores: Record<EngineKind, SoakStore>,
  workers: WorkerState[],
  exitedInTime: boolean[],
  latency: Map<string, number[]>,
  overlap: Map<string, HoldOverlap>,
  restart: { stoppedAt?: number; startedAt?: number },
  parentStart: MemorySample,
): number {
  const failures: string[] = [];
  const out: string[] = [];
  const summary: Record<string, unknown> = { options: opts, restart };

  // Admissions against the exact bound, per limiter, summed over the workers.
  out.push(
    '',
    '| limiter | calls | admitted | exact bound | of bound | units after restart | unavailable | errors |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const limits: Record<string, unknown> = {};
  for (const engine of ENGINES) {
    const segments = restart.startedAt !== undefined && !stores[engine].keepsStateOnRestart ? 2 : 1;
    for (const [id, o] of Object.entries(limitersOf(engine))) {
      const tallies = workers.map((w) => w.done?.tallies[id]).filter((t): t is LimiterTally => !!t);
      const sum = (k: keyof LimiterTally): number => tallies.reduce((a, t) => a + t[k], 0);
      const spanMs =
        Math.max(...tallies.map((t) => t.last)) - Math.min(...tallies.map((t) => t.first));
      const s = (spanMs + MAX_WAIT_S * 1000) / 1000;
      let bound: number | undefined;
      let admitted = sum('units');
      let what = 'units';
      if (o.ratePerSecond !== undefined && !id.endsWith('_ids')) {
        // GCRA: the burst once per state segment, then one unit per emission interval.
        bound = segments * (o.burst ?? 1) + Math.floor(o.ratePerSecond * s);
      } else if (o.algorithm === 'sliding_window') {
        // Any window of W holds at most `limit`: a span S is covered by floor(S / W) + 1 windows.
        bound = o.limit! * (Math.floor(s / o.windowSeconds!) + segments);
      } else if (o.maxConcurrent !== undefined) {
        admitted = overlap.get(id)?.max ?? 0;
        bound = o.maxConcurrent;
        what = 'held at once';
      }
      const calls = sum('calls');
      const errors = sum('errors');
      const afterRestart = sum('unitsAfterRestart');
      if (restart.startedAt !== undefined && afterRestart === 0)
        failures.push(`${id}: admitted nothing after the stores came back`);
      if (bound !== undefined && admitted > bound)
        failures.push(`${id}: ${admitted} > bound ${bound}`);
      if (errors) failures.push(`${id}: ${errors} unexpected errors`);
      const pct = bound ? `${((100 * admitted) / bound).toFixed(1)} %` : 'n/a';
      out.push(
        `| ${id} | ${calls} | ${admitted} ${what} | ${bound ?? 'n/a (per identifier)'} | ${pct} | ${restart.startedAt !== undefined ? afterRestart : '-'} | ${sum('unavailable')} | ${errors} |`,
      );
      limits[id] = {
        calls,
        admitted,
        what,
        bound,
        spanMs,
        segments,
        afterRestart,
        unavailable: sum('unavailable'),
        errors,
      };
    }
  }
  summary.limits = limits;

  // p99 decision latency per minute (calls that do not wait), per engine.
  const minutes = Math.ceil(opts.minutes);
  out.push(
    '',
    '| minute | redis decisions | redis p50 ms | redis p99 ms | postgres decisions | postgres p50 ms | postgres p99 ms |',
  );
  out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const perMinute: unknown[] = [];
  for (let m = 0; m < minutes; m++) {
    const cells = ENGINES.map((e) => {
      const h = latency.get(`${m} ${e}`) ?? [];
      const n = h.reduce((a, b) => a + b, 0);
      return { n, p50: quantile(h, 0.5), p99: quantile(h, 0.99) };
    });
    const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
    out.push(
      `| ${m + 1} | ${cells.map((c) => `${c.n} | ${f(c.p50)} | ${f(c.p99)}`).join(' | ')} |`,
    );
    perMinute.push({ minute: m + 1, redis: cells[0], postgres: cells[1] });
  }
  summary.latency = perMinute;

  // Memory of each process (after a full collection) and what it left open.
  out.push(
    '',
    '| process | heap at start MB | heap after minute 1 MB | heap at end MB | rss start → end MB | exited by itself | handles when close() resolved | 100 ms later |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | --- | --- | --- |');
  const memory: unknown[] = [];
  workers.forEach((w, i) => {
    const start = w.ready;
    const first = w.firstMinute;
    const end = w.done?.memory;
    const handles = w.done?.handles ?? ['(no report)'];
    const atClose = w.done?.handlesAtClose ?? [];
    if (!exitedInTime[i]) failures.push(`worker ${i + 1} did not exit by itself within 30 s`);
    if (atClose.length)
      failures.push(`worker ${i + 1} held handles when close() resolved: ${atClose.join(', ')}`);
    if (first && end && opts.minutes >= 1.5) {
      const growth = end.heapUsed - first.heapUsed;
      const noise = Math.max(3 * 2 ** 20, 0.1 * first.heapUsed);
      if (growth > noise)
        failures.push(`worker ${i + 1}: heap grew ${mb(growth)} MB after minute 1`);
    }
    for (const e of w.done?.firstErrors ?? []) out.push(`worker ${i + 1} error: ${e}`);
    out.push(
      `| worker ${i + 1} (pid ${w.proc.pid}) | ${start ? mb(start.heapUsed) : '-'} | ${first ? mb(first.heapUsed) : '-'} | ${end ? mb(end.heapUsed) : '-'} | ${start ? mb(start.rss) : '-'} → ${end ? mb(end.rss) : '-'} | ${exitedInTime[i] ? 'yes' : 'NO'} | ${atClose.length ? atClose.join(', ') : 'none'} | ${handles.length ? handles.join(', ') : 'none'} |`,
    );
    memory.push({
      worker: i + 1,
      start,
      firstMinute: first,
      end,
      handles,
      logged: w.done?.logged,
      exited: exitedInTime[i],
    });
  });
  const parentEnd = memoryNow();
  out.push(
    `| soak (parent) | ${mb(parentStart.heapUsed)} | - | ${mb(parentEnd.heapUsed)} | ${mb(parentStart.rss)} → ${mb(parentEnd.rss)} | - | - | - |`,
  );
  out.push('');
  workers.forEach((w, i) =>
    out.push(`worker ${i + 1} heap after each minute, MB: ${w.heapPerMinute.map(mb).join(' ')}`),
  );
  summary.memory = memory;
  summary.failures = failures;

  const lateHolds = [...overlap.values()].reduce((a, o) => a + o.late, 0);
  out.push('');
  if (restart.startedAt !== undefined) {
    out.push(
      `Stores restarted: stopped at ${(restart.stoppedAt! / 1000).toFixed(1)} s, back at ${(restart.startedAt / 1000).toFixed(1)} s (Redis loses its state: its bounds count two bursts / windows; PostgreSQL keeps it).`,
    );
  }
  if (lateHolds) out.push(`${lateHolds} hold intervals arrived late (checked out of order).`);
  out.push(
    failures.length
      ? `FAILED:\n- ${failures.join('\n- ')}`
      : 'PASSED: every bound held, memory flat after minute 1, no handle left.',
  );
  process.stdout.write(`${out.join('\n')}\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(summary, null, 2));
  return failures.length ? 1 : 0;
}

function log(m: string): void {
  process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(2);
    },
  );
}
