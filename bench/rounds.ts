import { median } from './measure';
import type { BenchOptions, BenchRow } from './suite';

/** One round's numbers for one entry. */
export interface Sample {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly extra?: Record<string, number | string>;
}

/** One thing to measure: a contender on a case at a concurrency. */
export interface RoundEntry {
  readonly case: string;
  readonly contender: string;
  readonly concurrency: number;
  /** Measures once (fresh state each call) and resolves to that round's numbers. */
  run(): Promise<Sample>;
}

/**
 * Runs every entry once per round, interleaved (round 1 of all entries, then round 2...), so
 * that a noisy neighbour or thermal drift hits every contender alike. Each row carries the
 * median of its rounds (numeric extras too), the errors of all rounds added up, and the raw
 * ops/s of each round.
 */
export async function runRounds(
  suite: string,
  entries: readonly RoundEntry[],
  options: BenchOptions,
): Promise<BenchRow[]> {
  const only = options.caseFilter;
  if (only !== undefined) entries = entries.filter((e) => e.case.includes(only));
  const samples: Sample[][] = entries.map(() => []);
  for (let round = 1; round <= options.rounds; round++) {
    for (const [i, entry] of entries.entries()) {
      const sample = await entry.run();
      samples[i].push(sample);
      options.progress?.(
        `${suite} · ${entry.case} · ${entry.contender} · ${entry.concurrency} in flight · ` +
          `round ${round}/${options.rounds}: ${formatRate(sample.opsPerSec)}/s` +
          (sample.errors ? `, ${sample.errors} errors` : ''),
      );
    }
  }
  return entries.map((entry, i) => toRow(suite, entry, samples[i]));
}

function toRow(suite: string, entry: RoundEntry, samples: Sample[]): BenchRow {
  const pick = (f: (s: Sample) => number): number => median(samples.map(f));
  return {
    suite,
    case: entry.case,
    contender: entry.contender,
    concurrency: entry.concurrency,
    opsPerSec: pick((s) => s.opsPerSec),
    p50Ms: pick((s) => s.p50Ms),
    p99Ms: pick((s) => s.p99Ms),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    extra: medianExtra(samples),
    rounds: samples.map((s) => s.opsPerSec),
  };
}

/** Numeric extras: median of the rounds; text extras: the last round's. */
function medianExtra(samples: Sample[]): Record<string, number | string> | undefined {
  const keys = new Set(samples.flatMap((s) => Object.keys(s.extra ?? {})));
  if (keys.size === 0) return undefined;
  const out: Record<string, number | string> = {};
  for (const key of keys) {
    const values = samples.map((s) => s.extra?.[key]).filter((v) => v !== undefined);
    out[key] = values.every((v) => typeof v === 'number')
      ? median(values as number[])
      : String(values[values.length - 1]);
  }
  return out;
}

/** 3456789 -> "3.46M", 12345 -> "12.3k". */
export function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}
