import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { StoreOptions } from '../../lib/core';
import type { HandoffJob, HandoffWindow } from '../concurrency/handoff-child';
import { whyRedisUnreachable } from '../lib/redis-probe';
import { runRounds, type RoundEntry, type Sample } from '../rounds';
import { find, ratioGoal } from '../report/goals';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `rs_bench_slots_${process.pid}`;

/** The setting: 3 slots on one hot key, each held 3 ms. */
const MAX_CONCURRENT = 3;
const HOLD_MS = 3;
/** The most completions per second the slots allow: every slot busy, handed over at once. */
const IDEAL_PER_SECOND = (MAX_CONCURRENT * 1000) / HOLD_MS;

let runs = 0;
type Engine = 'memory' | 'redis' | 'postgres';

/** The processes × callers of a row; memory is per process, so it runs in one only. */
const SHAPES = [
  { processes: 1, callers: 16 },
  { processes: 4, callers: 8 },
] as const;

/** The contender name of a shape. */
function shapeName(processes: number, callers: number): string {
  return `rate-sync acquire/release, ${processes} process(es) × ${callers} callers`;
}

function storeFor(engine: Engine): StoreOptions {
  const id = `${process.pid}_${++runs}`;
  if (engine === 'redis') return { engine, url: REDIS_URL, keyPrefix: `rs_bench_slots_${id}` };
  if (engine === 'postgres') {
    return { engine, url: PG_URL, schemaName: SCHEMA, tableName: `slots_${id}`, poolMaxSize: 8 };
  }
  return { engine: 'memory' };
}

/**
 * One run: `processes` children with `callers` each, started together, `durationMs` long.
 * Completions per second over the window, against {@link IDEAL_PER_SECOND}.
 */
async function handoff(
  engine: Engine,
  processes: number,
  callers: number,
  durationMs: number,
): Promise<Sample> {
  const job: HandoffJob = {
    store: storeFor(engine),
    maxConcurrent: MAX_CONCURRENT,
    callers,
    holdMs: HOLD_MS,
  };
  const script = join(__dirname, '..', 'concurrency', 'handoff-child.js');
  const children = Array.from({ length: processes }, () => startChild(script, job));
  // Every child connects (and, on PostgreSQL, creates its table) before the common start.
  await Promise.all(children.map((c) => c.ready)).catch((err: unknown) => {
    for (const c of children) c.kill();
    throw err;
  });
  const start = Date.now() + 200;
  const window: HandoffWindow = { start, end: start + durationMs };
  for (const c of children) c.go(window);
  await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));
  const cpuAtStart = machineCpu();
  await new Promise((r) => setTimeout(r, Math.max(0, window.end - Date.now())));
  const cpuAtEnd = machineCpu();
  let completions = 0;
  let errors = 0;
  let storeCalls = 0;
  const results = await Promise.all(children.map((c) => c.result));
  for (const r of results) {
    completions += r.completions;
    errors += r.errors;
    storeCalls += r.storeCalls;
  }
  // Each process's medians, averaged: the store's round trip, and the in-process handoff.
  const mean = (xs: number[]): number =>
    Math.round((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)) * 1000) / 1000;
  const perSecond = completions / (durationMs / 1000);
  return {
    opsPerSec: perSecond,
    p50Ms: 0,
    p99Ms: 0,
    errors,
    extra: {
      [`completions per ${durationMs / 1000} s`]: completions,
      'of ideal %': Math.round((perSecond / IDEAL_PER_SECOND) * 1000) / 10,
      'round trip ms (p50)': mean(results.map((r) => r.roundTripMs)),
      // The whole machine's CPU (these processes, the store's server, the kernel's networking):
      // when it is all busy, the CPU each completion costs is what caps the rate.
      'machine busy %': Math.round(
        (100 * (cpuAtEnd.busy - cpuAtStart.busy)) / Math.max(1, cpuAtEnd.total - cpuAtStart.total),
      ),
      'machine CPU ms/completion':
        Math.round(((cpuAtEnd.busy - cpuAtStart.busy) / Math.max(1, completions)) * 100) / 100,
      'store calls/completion': Math.round((storeCalls / Math.max(1, completions)) * 100) / 100,
      // Across processes a release is mostly taken over elsewhere: only one process says it.
      ...(processes === 1 ? { 'handoff ms (p50)': mean(results.map((r) => r.handoffMs)) } : {}),
    },
  };
}

/** Busy and total CPU milliseconds of every core of the machine since boot. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const b = times.user + times.nice + times.sys + times.irq;
    busy += b;
    total += b + times.idle;
  }
  return { busy, total };
}

/** What a child prints at the end (see handoff-child.ts). */
interface ChildResult {
  readonly completions: number;
  readonly errors: number;
  readonly roundTripMs: number;
  readonly handoffMs: number;
  readonly storeCalls: number;
}

/** A child process of {@link handoff}: resolves `ready` once connected, `result` at the end. */
function startChild(
  script: string,
  job: HandoffJob,
): {
  ready: Promise<void>;
  go(window: HandoffWindow): void;
  kill(): void;
  result: Promise<ChildResult>;
} {
  const child = spawn(process.execPath, [script, JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) markReady();
  });
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`slot-handoff child exited with code ${code}: ${out.trim()}`));
    });
  });
  // A child that dies before it is ready must not leave the others waiting.
  result.catch(() => undefined);
  const failed = result.then(() => new Promise<void>(() => undefined));
  return {
    ready: Promise.race([ready, failed]),
    go: (window) => child.stdin.end(JSON.stringify(window) + '\n'),
    kill: () => child.kill('SIGKILL'),
    result,
  };
}

export const concurrencySuite: BenchSuite = {
  name: 'concurrency',
  description:
    `Slot handoff: max_concurrent ${MAX_CONCURRENT} on one hot key, callers holding each slot ${HOLD_MS} ms and ` +
    `acquiring again at once (waiting for a slot as long as it takes); completions per second, against the ideal ` +
    `${IDEAL_PER_SECOND}/s (every slot busy, handed over without delay). In flight = processes × callers; ` +
    'the memory engine counts per process, so it runs in one.',
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const durationMs = options.smoke ? 1000 : 3000;
    const redisUp = (await whyRedisUnreachable(REDIS_URL)) === null;
    const pgUp = await pgReachable();
    const engines: Engine[] = ['memory'];
    if (redisUp) engines.push('redis');
    if (pgUp) engines.push('postgres');
    const entries: RoundEntry[] = [];
    for (const engine of engines) {
      for (const { processes, callers } of SHAPES) {
        if (engine === 'memory' && processes > 1) continue;
        entries.push({
          case: `slot handoff, ${engine}`,
          contender: shapeName(processes, callers),
          concurrency: processes * callers,
          run: () => handoff(engine, processes, callers, durationMs),
        });
      }
    }
    if (!pgUp) return runRounds(this.name, entries, options);
    const admin = new Pool({ connectionString: PG_URL, max: 1 });
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
      return await runRounds(this.name, entries, options);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).catch(() => undefined);
      await admin.end();
    }
  },
  goals(rows: readonly BenchRow[]): GoalCheck[] {
    const [one, four] = SHAPES.map((sh) => shapeName(sh.processes, sh.callers));
    const at = (engine: Engine, contender: string): BenchRow | undefined =>
      find(rows, { case: `slot handoff, ${engine}`, contender });
    return [
      ratioGoal(
        'slot handoff, 1 process: Redis >= 0.9x memory',
        at('redis', one),
        at('memory', one),
        0.9,
      ),
      ratioGoal(
        'slot handoff, 1 process: PostgreSQL >= 0.9x memory',
        at('postgres', one),
        at('memory', one),
        0.9,
      ),
      ratioGoal(
        'slot handoff, 4 processes: PostgreSQL >= 0.9x Redis',
        at('postgres', four),
        at('redis', four),
        0.9,
      ),
    ];
  },
};

async function pgReachable(): Promise<boolean> {
  const pool = new Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 3000 });
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await pool.end();
  }
}
