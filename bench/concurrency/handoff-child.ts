/**
 * One process of the slot-handoff bench: `node handoff-child.js <json>` with the store options
 * and the callers. Once connected it prints `ready` and waits for one line on stdin, the run's
 * start and end (epoch ms, the same for every process, sent once all are ready). Each caller
 * then loops: acquire the hot key's slot (waiting as long as it takes), hold it `holdMs`,
 * release. Prints `{"completions":N,"errors":E}`, the holds that ended within the window.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { RateSync, type StoreOptions } from '../../lib/core';
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
  const rs = new RateSync(
    {
      stores: { s: job.store },
      limiters: { slots: { store: 's', maxConcurrent: job.maxConcurrent, leaseSeconds: 10 } },
    },
    { logger: silentLogger },
  );
  await rs.connect();
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  const window = JSON.parse(line) as HandoffWindow;
  await new Promise((r) => setTimeout(r, Math.max(0, window.start - Date.now())));
  let completions = 0;
  let errors = 0;
  const caller = async (): Promise<void> => {
    while (Date.now() < window.end) {
      try {
        const permit = await rs.acquire('slots', { key: 'hot', timeout: 10 });
        await new Promise((r) => setTimeout(r, job.holdMs));
        await permit.release();
        if (Date.now() <= window.end) completions++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  await rs.close();
  process.stdout.write(JSON.stringify({ completions, errors }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
