/**
 * One process of the slot-handoff bench: `node handoff-child.js <json>` with the store options
 * and the callers. Once connected it prints `ready` and waits for one line on stdin, the run's
 * start and end (epoch ms, the same for every process, sent once all are ready). Each caller
 * then loops: acquire the hot key's slot (waiting as long as it takes), hold it `holdMs`,
 * release. Prints `{"completions":N,"errors":E,"roundTripMs":R,"handoffMs":H,"storeCalls":C}`:
 * the holds that ended within the window; the median round trip of a dry-run check of the
 * limiter (measured before the window, one call at a time: the store's floor under the run's
 * conditions); the median in-process handoff, from a caller's `release()` to the next caller of
 * this process holding the slot after waiting (0 when none waited); and the store calls
 * (decisions and releases) made within the window.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { RateSync, type StoreOptions } from '../../lib/core';
import { createEngine } from '../../lib/core/engines/create-engine';
import type { Engine } from '../../lib/core/engines/engine';
import { silentLogger } from '../lib/silent-logger';

export interface HandoffJob {
  readonly store: StoreOptions;
  readonly maxConcurrent: number;
  readonly callers: number;
  readonly holdMs: number;
}

/** The window, sent on stdin once every process is ready. */
export interface HandoffWindow {
  readonly start: number;
  readonly end: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as HandoffJob;
  /** Store calls (decisions, releases) made within the window. */
  let storeCalls = 0;
  let window: HandoffWindow | undefined;
  const counted = <A extends unknown[], R>(call: (...args: A) => R) => {
    return (...args: A): R => {
      const now = Date.now();
      if (window && now >= window.start && now <= window.end) storeCalls++;
      return call(...args);
    };
  };
  const rs = new RateSync(
    {
      stores: { s: job.store },
      limiters: { slots: { store: 's', maxConcurrent: job.maxConcurrent, leaseSeconds: 10 } },
    },
    {
      logger: silentLogger,
      createEngine: (ctx) => {
        const engine: Engine = createEngine(ctx);
        engine.acquire = counted(engine.acquire.bind(engine));
        engine.release = counted(engine.release.bind(engine));
        return engine;
      },
    },
  );
  await rs.connect();
  const roundTrips: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await rs.check('slots', { key: 'round-trip-probe' });
    roundTrips.push(performance.now() - t0);
  }
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  const w = (window = JSON.parse(line) as HandoffWindow);
  await new Promise((r) => setTimeout(r, Math.max(0, w.start - Date.now())));
  let completions = 0;
  let errors = 0;
  /** When each release of this process started, oldest first, until a waiter takes it over. */
  const released: number[] = [];
  const handoffs: number[] = [];
  const caller = async (): Promise<void> => {
    while (Date.now() < w.end) {
      try {
        const asked = performance.now();
        const permit = await rs.acquire('slots', { key: 'hot', timeout: 10 });
        const held = performance.now();
        // Admitted after a wait: it took over a slot this process (or another) released.
        const freed = released.shift();
        if (freed !== undefined && freed > asked) handoffs.push(held - freed);
        await new Promise((r) => setTimeout(r, job.holdMs));
        released.push(performance.now());
        if (released.length > job.callers) released.shift();
        await permit.release();
        if (Date.now() <= w.end) completions++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  await rs.close();
  process.stdout.write(
    JSON.stringify({
      completions,
      errors,
      roundTripMs: median(roundTrips),
      handoffMs: median(handoffs),
      storeCalls,
    }) + '\n',
  );
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[sorted.length >> 1] * 1000) / 1000;
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
