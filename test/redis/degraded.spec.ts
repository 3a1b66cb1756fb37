import { join } from 'node:path';
import { describeRedisBinaries, uniquePrefix } from '../support/redis';
import { buildCore } from './build-core';
import { JsonChild } from './child';
import { RedisServer, sparePort } from './redis-server';

/**
 * Degraded mode on a real outage: four processes share a token bucket (40/s, burst 4) and a
 * sliding window (40 per second), both `on_store_failure = "local"`, on a private Redis that
 * is killed for a few seconds and restarted (empty: no persistence), while each process keeps 2
 * decisions in flight on each. Before and after the outage the store decides exactly; during it
 * each process decides alone at a quarter of each limit (its heartbeats counted a fleet of 4):
 * never everything, never nothing. Across the outage, the documented bound: only an interval
 * that contains the outage's start may hold one local share per process more than the limit;
 * the recovery adds nothing (without the carry-over, the restarted store's empty window would
 * admit a second 40 within a second of the local 40). Prints the timeline for the record.
 */
const PROCS = 4;
const RATE = 40;
const BURST = 4;
const LIMIT = 40;
const LIMITERS = {
  tb: { store: 'r', ratePerSecond: RATE, burst: BURST, onStoreFailure: 'local' },
  win: {
    store: 'r',
    algorithm: 'sliding_window',
    limit: LIMIT,
    windowSeconds: 1,
    onStoreFailure: 'local',
  },
};
const share = (n: number): number => PROCS * Math.max(1, Math.floor(n / PROCS));
const HEARTBEAT_S = 0.25;
const BEFORE_MS = 2500;
const OUTAGE_MS = 2500;
const AFTER_MS = 4000;
const SLICE_MS = 500;
/**
 * Token bucket admissions are stamped by the client after the store decided, a few ms late: a
 * count near a boundary may be off by a couple. Window admissions are placed at the instant the
 * store (or the process) decided them: `resetAt - window` (the admission is the newest entry of
 * the log), so the window is checked exactly.
 */
const STAMP_SLACK = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Stamp = [epochMs: number, degraded: 0 | 1, resetAt: number];
type Report = {
  admitted: Record<keyof typeof LIMITERS, Stamp[]>;
  rejected: number;
  errors: number;
  unhandled: number;
  logs: string[];
};

/**
 * The most admissions decided in any window `(t - ms, t]` that does / does not contain `instant`
 * (instants as the deciding clock gave them: `resetAt - ms`).
 */
function busiest(stamps: Stamp[], ms: number, instant: number): { across: number; other: number } {
  const t = stamps.map((s) => s[2] - ms).sort((a, b) => a - b);
  let across = 0;
  let other = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[j] <= t[i] - ms) j++;
    const n = i - j + 1;
    if (t[j] <= instant && instant <= t[i]) across = Math.max(across, n);
    else other = Math.max(other, n);
  }
  return { across, other };
}

describeRedisBinaries('degraded mode: four processes through a Redis outage', () => {
  const prefix = uniquePrefix('degraded');
  let server: RedisServer;
  let children: JsonChild[] = [];

  beforeAll(async () => {
    server = new RedisServer(await sparePort(41_700, 41_800));
    await server.start();
    const config = JSON.stringify({
      url: `redis://127.0.0.1:${server.port}`,
      prefix,
      limiters: LIMITERS,
      heartbeat: HEARTBEAT_S,
    });
    const core = buildCore();
    children = Array.from(
      { length: PROCS },
      () => new JsonChild(join(__dirname, 'children/degraded-worker.js'), [core, config]),
    );
    await Promise.all(children.map((c) => c.next()));
    // Every process has a heartbeat in the store, and has beaten since the last one joined.
    while (server.cli('ZCARD', `${prefix}:fleet`).trim() !== String(PROCS)) await sleep(50);
    await sleep(HEARTBEAT_S * 1000 * 2);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await server?.dispose();
  });

  it('admits about the limit during the outage, exactly the limit before and after', async () => {
    const start = Date.now();
    const end = start + BEFORE_MS + OUTAGE_MS + AFTER_MS;
    for (const c of children) c.send({ load: end, inflight: 2 });
    await sleep(BEFORE_MS);
    await server.stop('SIGKILL');
    const downAt = Date.now();
    await sleep(OUTAGE_MS);
    await server.start();
    const upAt = Date.now();
    const reports = await Promise.all(children.map((c) => c.next<Report>()));

    const stamps = (id: keyof typeof LIMITERS): Stamp[] =>
      reports.flatMap((r) => r.admitted[id]).sort((a, b) => a[0] - b[0]);
    const [tb, win] = [stamps('tb'), stamps('win')];
    const count = (s: Stamp[], from: number, to: number, degraded?: 0 | 1): number =>
      s.filter(([t, d]) => t >= from && t < to && (degraded === undefined || d === degraded))
        .length;
    const timeline = [`   at ms  phase   token bucket (local)  window (local)`];
    for (let t = start; t < end; t += SLICE_MS) {
      const phase = t + SLICE_MS <= downAt ? 'before' : t >= upAt ? 'after' : 'outage';
      const cell = (s: Stamp[]): string =>
        `${String(count(s, t, t + SLICE_MS)).padStart(3)} (${String(count(s, t, t + SLICE_MS, 1)).padStart(2)})`;
      timeline.push(
        `${String(t - start).padStart(8)}  ${phase.padEnd(6)}  ${cell(tb).padEnd(20)}  ${cell(win)}`,
      );
    }
    const outageMs = upAt - downAt;
    const bucketAllows = (ms: number): number => Math.floor((RATE * ms) / 1000) + BURST;
    const summary = {
      outageMs,
      tb: {
        before: [count(tb, start, downAt), bucketAllows(downAt - start)],
        outage: [count(tb, downAt, upAt), bucketAllows(outageMs) - BURST + share(BURST)],
        after: [count(tb, upAt, end), bucketAllows(end - upAt)],
      },
      win: busiest(win, 1000, downAt),
      winOutage: count(win, downAt, upAt),
      rejected: reports.reduce((n, r) => n + r.rejected, 0),
    };
    console.log(
      `degraded mode: ${PROCS} processes; token bucket ${RATE}/s burst ${BURST}; window ${LIMIT}/s; ` +
        `Redis killed for ${outageMs} ms (admitted per ${SLICE_MS} ms; in brackets, decided locally):\n` +
        `${timeline.join('\n')}\n` +
        `[admitted, bound] ${JSON.stringify(summary)}`,
    );

    expect(reports.map((r) => [r.errors, r.unhandled])).toEqual(reports.map(() => [0, 0]));
    const logs = reports.flatMap((r) => r.logs).join('\n');
    expect(logs).toMatch(/degraded mode: 'tb'.* at 1\/4 .*fleet of 4, heartbeat/);
    expect(logs).toMatch(/is back after \d+\.\d s of degraded mode/);

    // Token bucket. Before and after: the store decides, exactly (burst, then the rate).
    const { before, outage, after } = summary.tb;
    expect(before[0]).toBeLessThanOrEqual(before[1] + STAMP_SLACK);
    expect(before[0]).toBeGreaterThanOrEqual(before[1] * 0.85);
    expect(after[0]).toBeLessThanOrEqual(after[1] + STAMP_SLACK);
    expect(after[0]).toBeGreaterThanOrEqual(after[1] * 0.75);
    // During: each process alone at a quarter of the rate: about the limit, never everything
    // (thousands were attempted), never nothing.
    expect(count(tb, downAt + 300, upAt, 1)).toBeGreaterThan(0);
    expect(outage[0]).toBeLessThanOrEqual(outage[1] + STAMP_SLACK);
    expect(outage[0]).toBeGreaterThanOrEqual(((RATE * outageMs) / 1000) * 0.6);

    // Sliding window: any second not containing the outage's start holds at most the limit,
    // the recovery included; one that contains it at most one local share per process more.
    expect(summary.win.other).toBeLessThanOrEqual(LIMIT);
    expect(summary.win.across).toBeLessThanOrEqual(LIMIT + share(LIMIT));
    expect(summary.winOutage).toBeGreaterThanOrEqual(LIMIT * Math.floor(outageMs / 1000) * 0.75);
    expect(summary.winOutage).toBeLessThanOrEqual(LIMIT * Math.ceil(outageMs / 1000));
  }, 30_000);

  it('stops heartbeats on close: the record is removed and the processes exit by themselves', async () => {
    for (const c of children) c.send({ exit: true });
    await Promise.all(children.map((c) => c.stop()));
    expect(server.cli('ZCARD', `${prefix}:fleet`).trim()).toBe('0');
  }, 15_000);
});
