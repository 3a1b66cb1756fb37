/**
 * Several Node processes sharing limits through PostgreSQL, via the RateSync facade: the
 * limits hold across processes, and a killed process's slots come back within lease_seconds.
 * Children are plain JavaScript running lib/core compiled once in beforeAll.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { RateSync, type RateSyncConfig } from '../../lib/core';
import {
  PG_URL,
  compileCore,
  describePg,
  dropSchema,
  removeCompiled,
  uniqueName,
  withClient,
} from '../support/postgres';

const CHILD = join(__dirname, 'children/cross-process-child.js');
const PROCESSES = 4;
const IN_FLIGHT = 32;
const DURATION_MS = 1500;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

interface Child {
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  waitFor(pred: (line: Record<string, unknown>) => boolean, ms: number): Promise<void>;
}

function startChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      lines.push(JSON.parse(out.slice(0, i)));
      out = out.slice(i + 1);
    }
    waiters.forEach((w) => w());
  });
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    lines,
    exited,
    stderr: () => err,
    kill: (signal) => proc.kill(signal),
    waitFor: (pred, ms) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child: no matching line in ${ms} ms; stderr: ${err}`)),
          ms,
        );
        const check = (): void => {
          if (!lines.some(pred)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Largest number of times in any half-open interval [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describePg('across processes (postgres, through the facade)', () => {
  const schema = uniqueName('rs_xproc');
  let lib: string | undefined;

  beforeAll(async () => {
    lib = compileCore('xproc');
    await withClient((c) =>
      c.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".inflight (cur int NOT NULL, peak int NOT NULL);
               INSERT INTO "${schema}".inflight VALUES (0, 0)`),
    );
  }, 180_000);
  afterAll(async () => {
    removeCompiled(lib);
    await dropSchema(schema);
  });

  const config = (limiters: RateSyncConfig['limiters'], tableName: string): RateSyncConfig => ({
    // A generous statement timeout: on a loaded CI box a store error would make the facade
    // fail open, admitting without counting, and the bounds below would not apply.
    stores: {
      pg: {
        engine: 'postgres',
        url: PG_URL,
        schemaName: schema,
        tableName,
        poolMaxSize: 6,
        socketTimeout: 5,
      },
    },
    limiters,
  });

  it(`${PROCESSES} processes x ${IN_FLIGHT} in flight on one key never exceed any limit`, async () => {
    const cfg = config(
      {
        sw: { store: 'pg', algorithm: 'sliding_window', limit: 20, windowSeconds: 0.5 },
        tb: { store: 'pg', ratePerSecond: 100, burst: 10 },
        c: { store: 'pg', maxConcurrent: 5, leaseSeconds: 10 },
      },
      'load',
    );
    const env = {
      RS_LIB: lib!,
      RS_CONFIG: JSON.stringify(cfg),
      RS_MODE: 'load',
      RS_INFLIGHT: String(IN_FLIGHT),
      RS_DURATION_MS: String(DURATION_MS),
      RS_START_AT: String(Date.now() + 5000),
      RS_PG_URL: PG_URL,
      RS_COUNTER: `"${schema}".inflight`,
    };
    const children = Array.from({ length: PROCESSES }, () => startChild(env));
    const codes = await Promise.all(children.map((c) => c.exited));
    expect({ codes, stderr: children.map((c) => c.stderr()).join('') }).toEqual({
      codes: children.map(() => 0),
      stderr: '',
    });
    const of = (name: string) =>
      children.flatMap((c) => c.lines.filter((l) => l.scenario === name));
    const sum = (name: string, field: string) =>
      of(name).reduce((n, l) => n + (l[field] as number), 0);

    // Sliding window: admissions (store clock) in any window of 500 ms.
    const sw = of('sw')
      .flatMap((l) => l.admitted as number[])
      .sort((a, b) => a - b);
    const swMax = maxInWindow(sw, 500);
    // Token bucket: admitted by time t <= burst + rate * (t - start), start = earliest child start.
    const tbStart = Math.min(...of('tb').map((l) => l.started as number));
    const tb = of('tb')
      .flatMap((l) => l.proceed as number[])
      .sort((a, b) => a - b);
    const tbExcess = Math.max(...tb.map((t, k) => k + 1 - (10 + (100 * (t - tbStart + 2)) / 1000)));
    const elapsed = (tb[tb.length - 1] - tbStart) / 1000;
    // max_concurrent: the peak of a counter kept outside the limiter.
    const counter = await withClient(
      async (c) => (await c.query(`SELECT cur, peak FROM "${schema}".inflight`)).rows[0],
    );

    console.log(
      [
        `cross-process (${PROCESSES} processes x ${IN_FLIGHT} in flight, ${DURATION_MS} ms each, children late by ` +
          `${of('sw')
            .map((l) => l.late)
            .join('/')} ms):`,
        `  sliding window 20 / 500 ms: ${sw.length} admitted, ${sum('sw', 'rejected')} rejected, ` +
          `at most ${swMax} in any 500 ms window`,
        `  token bucket 100/s burst 10: ${tb.length} admitted in ${elapsed.toFixed(3)} s ` +
          `(bound burst + rate * elapsed = ${(10 + 100 * elapsed).toFixed(1)}), worst excess over the bound ${tbExcess.toFixed(2)}, ` +
          `${sum('tb', 'rejected')} timed out`,
        `  max_concurrent 5: ${sum('c', 'done')} runs, peak in flight ${counter.peak}, in flight at the end ${counter.cur}`,
      ].join('\n'),
    );
    expect(swMax).toBeLessThanOrEqual(20);
    expect(sw.length).toBeGreaterThanOrEqual(40);
    expect(tbExcess).toBeLessThanOrEqual(0);
    expect(tb.length).toBeGreaterThanOrEqual(0.8 * 100 * (DURATION_MS / 1000));
    expect(counter.peak).toBeLessThanOrEqual(5);
    expect(counter.peak).toBeGreaterThanOrEqual(2);
    expect(counter.cur).toBe(0);
  }, 90_000);

  it('frees the slots of a SIGKILLed holder within lease_seconds', async () => {
    const cfg = config({ hold: { store: 'pg', maxConcurrent: 2, leaseSeconds: 1.5 } }, 'lease');
    const holder = startChild({ RS_LIB: lib!, RS_CONFIG: JSON.stringify(cfg), RS_MODE: 'hold' });
    const rs = new RateSync(cfg, { logger: quiet });
    try {
      await rs.connect();
      await holder.waitFor((l) => l.held === 2, 20_000);
      holder.kill('SIGKILL');
      const killedAt = performance.now();
      await holder.exited;
      expect(await rs.tryAcquire('hold')).toBeNull();
      // Waiting callers re-check at the earliest lease expiry (no release will come).
      const first = await rs.acquire('hold', { timeout: 5 });
      const second = await rs.acquire('hold', { timeout: 5 });
      const freedAfter = performance.now() - killedAt;
      console.log(
        `lease recovery: both slots of the SIGKILLed process (lease 1.5 s, renewed every 0.5 s) ` +
          `were taken again ${Math.round(freedAfter)} ms after the kill`,
      );
      // Expiry is 1.0 to 1.5 s after the kill (the last renewal came up to 0.5 s before it);
      // the rest is the waiter's timer and a round trip, generous for a loaded machine.
      expect(freedAfter).toBeLessThanOrEqual(1500 + 1000);
      await first.release();
      await second.release();
    } finally {
      holder.kill('SIGKILL');
      await rs.close();
    }
  }, 60_000);
});
