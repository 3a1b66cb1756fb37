import autocannon from 'autocannon';
import type { Sample } from '../rounds';

/** autocannon's setup for every contender: the 50 connections, no pipelining. */
export const CONNECTIONS = 50;

export interface LoadResult {
  readonly sample: Sample;
  readonly requests: number;
}

/**
 * One autocannon run of `durationMs` against `url`. Transport errors and timeouts are errors;
 * so are non-2xx answers when `expect2xx`, and 2xx answers when not (a rejection run must
 * reject everything).
 */
export async function load(
  url: string,
  durationMs: number,
  expect2xx: boolean,
): Promise<LoadResult> {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: durationMs / 1000,
    timeout: 10,
    // autocannon stops on its sampling tick (1 s by default): sample every 100 ms so that a
    // run lasts the duration asked for, rounded to 0.1 s, not to the next whole second.
    sampleInt: 100,
  });
  const requests = r['2xx'] + r.non2xx;
  const seconds = r.duration > 0 ? r.duration : durationMs / 1000;
  const unexpected = expect2xx ? r.non2xx : r['2xx'] + r['5xx'];
  return {
    requests,
    sample: {
      opsPerSec: requests / seconds,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      errors: r.errors + r.timeouts + unexpected,
      extra: { '2xx': r['2xx'], '429/4xx': r['4xx'] },
    },
  };
}
