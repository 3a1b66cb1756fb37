/**
 * The shared part of the degraded-mode suites (test/redis/degraded.spec.ts,
 * test/postgres/degraded.spec.ts): four child processes share a token bucket and a sliding
 * window, both `on_store_failure = "local"`, while the store is taken away for a few seconds
 * and brought back. This file holds the limiters, the load schedule, the timeline the suites
 * print and the bounds they check (docs/configuration.md, "Degraded mode").
 */
import { join } from 'node:path';
import { buildCore } from '../redis/build-core';
import { JsonChild } from '../redis/child';

export const PROCS = 4;
const RATE = 40;
const BURST = 4;
const LIMIT = 40;
export const LIMITERS = {
  tb: { store: 'r', ratePerSecond: RATE, burst: BURST, onStoreFailure: 'local' },
  win: {
    store: 'r',
    algorithm: 'sliding_window',
    limit: LIMIT,
    windowSeconds: 1,
    onStoreFailure: 'local',
  },
};
/** Heartbeats, breaker and timeouts short enough for a test of a few seconds. */
export const FAST_STORE = {
  socketTimeout: 0.3,
  socketConnectTimeout: 1,
  breakerCooldown: 0.25,
  heartbeatInterval: 0.25,
};
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
const share = (n: number): number => PROCS * Math.max(1, Math.floor(n / PROCS));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Stamp = [epochMs: number, degraded: 0 | 1, resetAt: number];
type Report = {
  admitted: Record<keyof typeof LIMITERS, Stamp[]>;
  rejected: number;
  errors: number;
  unhandled: number;
  logs: string[];
};

/** Starts the fleet: one child per process, each with a RateSync over `store`, connected. */
export async function startFleet(store: Record<string, unknown>): Promise<JsonChild[]> {
  const config = JSON.stringify({ store: { ...FAST_STORE, ...store }, limiters: LIMITERS });
  const core = buildCore();
  const script = join(__dirname, '../redis/children/degraded-worker.js');
  const children = Array.from({ length: PROCS }, () => new JsonChild(script, [core, config]));
  await Promise.all(children.map((c) => c.next()));
  return children;
}

/** Closes every child's RateSync and waits for the processes to exit by themselves. */
export async function closeFleet(children: JsonChild[]): Promise<void> {
  for (const c of children) c.send({ exit: true });
  await Promise.all(children.map((c) => c.stop()));
}

/**
 * Runs the load through an outage (`takeDown`, then `bringBack` after {@link OUTAGE_MS}),
 * prints the timeline and checks the bounds.
 */
export async function loadThroughOutage(
  label: string,
  children: JsonChild[],
  takeDown: () => Promise<void>,
  bringBack: () => Promise<void>,
): Promise<void> {
  const start = Date.now();
  const end = start + BEFORE_MS + OUTAGE_MS + AFTER_MS;
  for (const c of children) c.send({ load: end, inflight: 2 });
  await sleep(BEFORE_MS);
  await takeDown();
  const downAt = Date.now();
  await sleep(OUTAGE_MS);
  await bringBack();
  const upAt = Date.now();
  const reports = await Promise.all(children.map((c) => c.next<Report>()));
  check(label, reports, { start, end, downAt, upAt });
}

function check(
  label: string,
  reports: Report[],
  at: { start: number; end: number; downAt: number; upAt: number },
): void {
  const { start, end, downAt, upAt } = at;
  const stamps = (id: keyof typeof LIMITERS): Stamp[] =>
    reports.flatMap((r) => r.admitted[id]).sort((a, b) => a[0] - b[0]);
  const [tb, win] = [stamps('tb'), stamps('win')];
  const outageMs = upAt - downAt;
  const bucketAllows = (ms: number): number => Math.floor((RATE * ms) / 1000) + BURST;
  const summary = {
    outageMs,
    tb: {
      before: [count(tb, start, downAt), bucketAllows(downAt - start)],
      outage: [count(tb, downAt, upAt), bucketAllows(outageMs) - BURST + share(BURST)],
      after: [count(tb, upAt, end), bucketAllows(end - upAt)],
    },
    win: { ...busiest(win, 1000, downAt), outage: count(win, downAt, upAt) },
    rejected: reports.reduce((n, r) => n + r.rejected, 0),
  };
  console.log(
    `degraded mode on ${label}: ${PROCS} processes; token bucket ${RATE}/s burst ${BURST}; window ` +
      `${LIMIT}/s; store away for ${outageMs} ms (admitted per ${SLICE_MS} ms; in brackets, ` +
      `decided locally):\n${timeline(tb, win, at).join('\n')}\n` +
      `[admitted, bound] ${JSON.stringify(summary)}`,
  );

  expect(reports.map((r) => [r.errors, r.unhandled])).toEqual(reports.map(() => [0, 0]));
  const logs = reports.flatMap((r) => r.logs).join('\n');
  expect(logs).toMatch(
    /degraded mode: .* decide in this process at 1\/4 of their limits \(fleet of 4, heartbeat\)/,
  );
  expect(logs).toMatch(/is back after \d+\.\d s of degraded mode/);

  // Token bucket. Before and after: the store decides, exactly (burst, then the rate); the
  // lower bounds only say that the load keeps the limit busy (a loaded 2-core machine).
  const { before, outage, after } = summary.tb;
  expect(before[0]).toBeLessThanOrEqual(before[1] + STAMP_SLACK);
  expect(before[0]).toBeGreaterThanOrEqual(before[1] * 0.5);
  expect(after[0]).toBeLessThanOrEqual(after[1] + STAMP_SLACK);
  expect(after[0]).toBeGreaterThanOrEqual(after[1] * 0.5);
  // During: each process alone at a quarter of the rate: about the limit, never everything
  // (thousands were attempted), never nothing.
  expect(count(tb, downAt + 300, upAt, 1)).toBeGreaterThan(0);
  expect(outage[0]).toBeLessThanOrEqual(outage[1] + STAMP_SLACK);
  expect(outage[0]).toBeGreaterThanOrEqual(((RATE * outageMs) / 1000) * 0.6);

  // Sliding window: any second not containing the outage's start holds at most the limit, the
  // recovery included; one that contains it at most one local share per process more. Plus
  // one per process while switching back: the local state admits at this process's clock, the
  // store records the same admission at its own, a round trip later.
  expect(summary.win.other).toBeLessThanOrEqual(LIMIT + PROCS);
  expect(summary.win.across).toBeLessThanOrEqual(LIMIT + share(LIMIT) + PROCS);
  expect(summary.win.outage).toBeGreaterThanOrEqual(LIMIT * Math.floor(outageMs / 1000) * 0.75);
  expect(summary.win.outage).toBeLessThanOrEqual(LIMIT * Math.ceil(outageMs / 1000));
}

function count(s: Stamp[], from: number, to: number, degraded?: 0 | 1): number {
  return s.filter(([t, d]) => t >= from && t < to && (degraded === undefined || d === degraded))
    .length;
}

function timeline(
  tb: Stamp[],
  win: Stamp[],
  at: { start: number; end: number; downAt: number; upAt: number },
): string[] {
  const lines = [`   at ms  phase   token bucket (local)  window (local)`];
  for (let t = at.start; t < at.end; t += SLICE_MS) {
    const phase = t + SLICE_MS <= at.downAt ? 'before' : t >= at.upAt ? 'after' : 'outage';
    const cell = (s: Stamp[]): string =>
      `${String(count(s, t, t + SLICE_MS)).padStart(3)} (${String(count(s, t, t + SLICE_MS, 1)).padStart(2)})`;
    lines.push(
      `${String(t - at.start).padStart(8)}  ${phase.padEnd(6)}  ${cell(tb).padEnd(20)}  ${cell(win)}`,
    );
  }
  return lines;
}

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
