/**
 * One soak worker (a child process of `soak.ts`): mixed traffic on the Redis and PostgreSQL
 * limiters of `limits.ts` (try, waits with timeouts, costs, concurrency holds, composites,
 * dry runs, many identifiers) at a paced rate, until told to stop. It reports per minute its
 * decision latencies and memory, every second its concurrency holds, and at the end what each
 * limiter admitted and the handles it left open.
 *
 * argv: redisUrl postgresUrl ratePerSecond concurrency seed
 */
import {
  RateLimitExceededError,
  RateSync,
  StoreUnavailableError,
  type Permit,
} from '../../lib/core';
import { validateConfig } from '../../lib/core/config';
import {
  BUCKETS,
  ENGINES,
  MAX_WAIT_S,
  bucketOf,
  limitersOf,
  memoryNow,
  mono,
  type EngineKind,
  type LimiterTally,
  type ParentMessage,
  type WorkerMessage,
} from './limits';

const [redisUrl, postgresUrl, rateArg, concurrencyArg, seedArg] = process.argv.slice(2);
const RATE = Number(rateArg);
const CONCURRENCY = Number(concurrencyArg);
// stdout and stderr are opened lazily: open them before taking the baseline.
void process.stdout;
void process.stderr;
const baseline = process.getActiveResourcesInfo();

/** Resources opened since `before`; a socket is named by the store it goes to. */
function leftSince(before: readonly string[]): string[] {
  const left = process.getActiveResourcesInfo();
  for (const h of before) {
    const i = left.indexOf(h);
    if (i >= 0) left.splice(i, 1);
  }
  const stores: Record<string, string> = {
    [new URL(redisUrl).port]: 'redis',
    [new URL(postgresUrl).port]: 'postgres',
  };
  // Node's handle list (undocumented, for this report only) tells where each socket goes.
  const handles = (process as unknown as { _getActiveHandles(): { remotePort?: number }[] })
    ._getActiveHandles()
    .filter((h) => h.remotePort !== undefined);
  return left.map((h) =>
    h === 'TCPSocketWrap' && handles.length
      ? `TCPSocketWrap (${stores[String(handles.shift()!.remotePort)] ?? 'other'})`
      : h,
  );
}

const send = (m: WorkerMessage): void => void process.send?.(m);

/** mulberry32: reproducible traffic per worker. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(Number(seedArg));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const config = validateConfig({
  data: {
    stores: {
      redis: { engine: 'redis', url: redisUrl },
      postgres: { engine: 'postgres', url: postgresUrl, poolMaxSize: 6 },
    },
    limiters: Object.assign({}, ...ENGINES.map(limitersOf)),
  },
  spelling: 'camel',
});
let logged = 0;
const rs = new RateSync(config, {
  logger: { log: () => undefined, warn: () => void logged++, error: () => void logged++ },
});

const tallies: Record<string, LimiterTally> = {};
for (const id of Object.keys(config.limiters)) {
  tallies[id] = {
    units: 0,
    unitsAfterRestart: 0,
    calls: 0,
    admitted: 0,
    rejected: 0,
    unavailable: 0,
    errors: 0,
    first: Infinity,
    last: -Infinity,
  };
}
const firstErrors: string[] = [];
const newHistograms = (): Record<EngineKind, number[]> => ({
  redis: new Array<number>(BUCKETS).fill(0),
  postgres: new Array<number>(BUCKETS).fill(0),
});
let latency = newHistograms();
let holds: Record<string, number[]> = {};
let t0 = 0;
let minute = 0;
let stopping = false;
let restarted = false;

/** Runs one decision, tallies it, and returns its permit (null when rejected or failed). */
async function decide(
  engine: EngineKind,
  ids: readonly string[],
  units: number,
  timed: boolean,
  call: () => Promise<Permit | null>,
): Promise<Permit | null> {
  const start = mono();
  let permit: Permit | null = null;
  let outcome: 'admitted' | 'rejected' | 'unavailable' | 'errors';
  try {
    permit = await call();
    outcome = permit ? 'admitted' : 'rejected';
  } catch (err) {
    if (err instanceof RateLimitExceededError) outcome = 'rejected';
    else if (err instanceof StoreUnavailableError) outcome = 'unavailable';
    else {
      outcome = 'errors';
      if (firstErrors.length < 5)
        firstErrors.push(`${(err as Error).name}: ${(err as Error).message}`);
    }
  }
  const end = mono();
  if (timed) latency[engine][bucketOf(end - start)]++;
  for (const id of ids) {
    const t = tallies[id];
    t.calls++;
    t[outcome]++;
    if (permit) t.units += units;
    if (permit && restarted) t.unitsAfterRestart += units;
    t.first = Math.min(t.first, start);
    t.last = Math.max(t.last, end);
  }
  return permit;
}

/** Holds a concurrency permit for up to 15 ms; the interval recorded lies inside the hold. */
async function hold(id: string, permit: Permit): Promise<void> {
  const start = mono();
  await sleep(rand() * 15);
  (holds[id] ??= []).push(start, mono());
  await permit.release().catch(() => undefined);
}

async function oneCall(engine: EngineKind): Promise<void> {
  const tb = `${engine}_tb`;
  const sw = `${engine}_sw`;
  const cc = `${engine}_cc`;
  const r = rand();
  if (r < 0.25) {
    const cost = 1 + Math.floor(rand() * 3);
    const p = await decide(engine, [tb], cost, true, () => rs.tryAcquire(tb, { cost }));
    await p?.release();
  } else if (r < 0.32) {
    const p = await decide(engine, [tb], 1, false, () => rs.acquire(tb, { timeout: MAX_WAIT_S }));
    await p?.release();
  } else if (r < 0.52) {
    const cost = 1 + Math.floor(rand() * 2);
    const p = await decide(engine, [sw], cost, true, () => rs.tryAcquire(sw, { cost }));
    await p?.release();
  } else if (r < 0.57) {
    const p = await decide(engine, [sw], 1, false, () => rs.acquire(sw, { timeout: MAX_WAIT_S }));
    await p?.release();
  } else if (r < 0.72) {
    const p = await decide(engine, [cc], 1, true, () => rs.tryAcquire(cc));
    if (p) await hold(cc, p);
  } else if (r < 0.8) {
    // A composite: the bucket and a concurrency slot, all or nothing.
    const plan = rs.plan([tb, cc], { kind: 'call', mode: 'try' });
    const p = await decide(engine, [tb, cc], 1, true, async () => {
      const outcome = await rs.execute(plan, [undefined, undefined]);
      return outcome.permit ?? null;
    });
    if (p) await hold(cc, p);
  } else if (r < 0.95) {
    const id = `${engine}_ids`;
    const key = `user-${Math.floor(rand() * 20_000)}`;
    const p = await decide(engine, [id], 1, true, () => rs.tryAcquire(id, { key }));
    await p?.release();
  } else {
    // A dry run: decides, consumes nothing (not tallied as admissions).
    const start = mono();
    await rs.check(sw, { consume: false }).catch(() => undefined);
    latency[engine][bucketOf(mono() - start)]++;
  }
}

async function loop(): Promise<void> {
  const every = (1000 * CONCURRENCY) / RATE;
  while (!stopping) {
    const start = mono();
    await oneCall(rand() < 0.5 ? 'redis' : 'postgres');
    const left = every * (0.5 + rand()) - (mono() - start);
    if (left > 0) await sleep(left);
  }
}

function flush(final: boolean): void {
  const now = Math.floor((mono() - t0) / 60_000);
  if (Object.keys(holds).length) {
    send({ type: 'holds', holds });
    holds = {};
  }
  if (now > minute || final) {
    send({ type: 'minute', minute, latency, memory: memoryNow() });
    latency = newHistograms();
    minute = now;
  }
}

async function main(): Promise<void> {
  await rs.connect();
  send({ type: 'ready', memory: memoryNow() });
  const start = await new Promise<number>((resolve) => {
    process.on('message', (m: ParentMessage) => {
      if (m.type === 'start') resolve(m.t0);
      if (m.type === 'stop') stopping = true;
      if (m.type === 'restarted') restarted = true;
    });
  });
  t0 = start;
  const wait = t0 - mono();
  if (wait > 0) await sleep(wait);
  const ticker = setInterval(() => flush(false), 1000);
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  clearInterval(ticker);
  flush(true);
  const memory = memoryNow();
  await rs.close();
  // Listening for messages keeps the IPC channel referenced: stop, so it is not counted.
  process.removeAllListeners('message');
  // Handles left after close(), less those the process had before it built anything (IPC,
  // stdio): at once, and after a short grace for sockets that are closing.
  const leftNow = leftSince(baseline);
  await sleep(100);
  const left = leftSince(baseline);
  send({
    type: 'done',
    tallies,
    memory,
    handles: left,
    handlesAtClose: leftNow,
    firstErrors,
    logged,
  });
  process.disconnect();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `soak worker ${process.pid} failed: ${(err as Error).stack ?? String(err)}\n`,
  );
  process.exit(1);
});
