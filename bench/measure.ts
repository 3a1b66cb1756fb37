/**
 * Runs `op` with `concurrency` calls in flight for `durationMs` (after a warm-up of a tenth of
 * that) and returns ops/s and latency percentiles. Errors are counted, not thrown.
 */
export interface Measurement {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly ops: number;
  /** This process's CPU time (user + system) per op over the measured part, in ns. */
  readonly cpuNsPerOp: number;
}

export async function measure(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<Measurement> {
  await runFor(op, concurrency, Math.max(50, durationMs / 10), false);
  return runFor(op, concurrency, durationMs, true);
}

async function runFor(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  record: boolean,
): Promise<Measurement> {
  const latencies: number[] = [];
  let ops = 0;
  let errors = 0;
  let i = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await op(i++);
      } catch {
        errors++;
      }
      ops++;
      if (record && (ops & 7) === 0) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    opsPerSec: (ops / elapsed) * 1000,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    errors,
    ops,
    cpuNsPerOp: ops ? ((used.user + used.system) * 1000) / ops : 0,
  };
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * {@link measure} of a limiter call that resolves to whether it admitted, over the keys of a
 * key set: the measurement plus the share admitted, as the `admitted %` column.
 */
export async function measureAdmissions(
  op: (key: string) => Promise<boolean>,
  keyAt: (i: number) => string,
  concurrency: number,
  durationMs: number,
): Promise<Measurement & { extra: { 'admitted %': number } }> {
  let admitted = 0;
  let calls = 0;
  const m = await measure(
    (i) =>
      op(keyAt(i)).then((ok) => {
        calls++;
        if (ok) admitted++;
      }),
    concurrency,
    durationMs,
  );
  return { ...m, extra: { 'admitted %': calls ? Math.round((admitted / calls) * 1000) / 10 : 0 } };
}
