import type { Sample } from '../rounds';

/** The extra column: this process's CPU time (user + system) per decision, in µs. */
export const CLIENT_CPU = 'client CPU µs/decision';
/** The extra column: the server's own time per decision, in µs, as the server counts it. */
export const SERVER_TIME = 'server µs/decision';

/** Calls before the measured ones at full size, for V8 to compile a fresh contender's code. */
export const ONE_CALL_WARMUP = 3000;

/** What the server says it spent, summed over the statements or commands of a run. */
export interface ServerTime {
  readonly micros: number;
  readonly calls: number;
}

/** How to read a server's own accounting: reset before a run, read after. */
export interface ServerStats {
  reset(): Promise<void>;
  read(): Promise<ServerTime>;
}

/**
 * One call in flight, measured by CPU rather than by the wall clock: `calls` awaited one after
 * the other, after `warmup` calls that are not counted (a fresh contender's code is still being
 * compiled, and its garbage collected, by V8's background threads for its first thousand calls
 * or so: counted, that would measure the JIT rather than the call), with this process's CPU time per call and, when
 * `server` is given, the server's own time per call. On a busy machine the wall clock of a round
 * trip mostly measures the scheduler; CPU time measures the work. The ops/s (and latencies) are
 * still reported, as indicative.
 */
export async function oneInFlight(
  op: (key: string) => Promise<unknown>,
  keyAt: (i: number) => string,
  calls: number,
  server?: ServerStats,
  warmup = Math.max(10, calls / 10),
): Promise<Sample> {
  let i = 0;
  for (; i < warmup; i++) await op(keyAt(i));
  await server?.reset();
  const latencies: number[] = [];
  let errors = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let n = 0; n < calls; n++, i++) {
    const t0 = performance.now();
    try {
      await op(keyAt(i));
    } catch {
      errors++;
    }
    latencies.push(performance.now() - t0);
  }
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const stats = await server?.read();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.floor(p * (latencies.length - 1))] ?? 0;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    opsPerSec: (calls / elapsed) * 1000,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    errors,
    extra: {
      [CLIENT_CPU]: round((used.user + used.system) / calls),
      ...(stats ? { [SERVER_TIME]: round(stats.micros / calls) } : {}),
      ...(stats ? { 'server calls/decision': Math.round((stats.calls / calls) * 100) / 100 } : {}),
    },
  };
}
