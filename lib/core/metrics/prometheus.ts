import type { LimiterMetrics } from './limiter-metrics';

const COUNTERS: [keyof LimiterMetrics, string, string][] = [
  ['attempts', 'rate_sync_attempts_total', 'Acquisition attempts.'],
  ['allowed', 'rate_sync_allowed_total', 'Admitted acquisitions (fail-open included).'],
  ['rejected', 'rate_sync_rejected_total', 'Acquisitions rejected by the limit.'],
  [
    'rejectedLocally',
    'rate_sync_rejected_locally_total',
    'Rejections answered without a store call.',
  ],
  ['timedOut', 'rate_sync_timed_out_total', 'Rejections of calls that waited and ran out of time.'],
  [
    'shadowRejected',
    'rate_sync_shadow_rejected_total',
    'Rejections in shadow mode (the call proceeded).',
  ],
  ['evicted', 'rate_sync_evicted_total', 'Permits taken back after max_hold_seconds.'],
  ['waited', 'rate_sync_waited_total', 'Admissions that waited.'],
  ['totalWaitMs', 'rate_sync_wait_milliseconds_total', 'Milliseconds waited by admitted calls.'],
  ['storeErrors', 'rate_sync_store_errors_total', 'Store calls that failed.'],
  ['failedOpen', 'rate_sync_failed_open_total', 'Admitted uncounted on store failure (fail-open).'],
  ['failedClosed', 'rate_sync_failed_closed_total', 'Rejected on store failure (fail-closed).'],
  [
    'degradedAllowed',
    'rate_sync_degraded_allowed_total',
    'Admitted by this process alone while the store was down (degraded mode).',
  ],
  [
    'degradedRejected',
    'rate_sync_degraded_rejected_total',
    'Rejected by this process alone in degraded mode.',
  ],
  ['released', 'rate_sync_released_total', 'Permits released.'],
  [
    'evictedKeys',
    'rate_sync_evicted_keys_total',
    "Expired keys dropped to make room at a memory store's max_keys.",
  ],
  [
    'refusedKeys',
    'rate_sync_refused_keys_total',
    'New keys refused because a memory store was full of keys that still restrict.',
  ],
];

/** Renders limiter metrics in the Prometheus text exposition format (version 0.0.4). */
export function toPrometheus(metrics: readonly LimiterMetrics[]): string {
  const out: string[] = [];
  const label = (id: string): string =>
    `{limiter="${id.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"}`;
  for (const [field, name, help] of COUNTERS) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const m of metrics) out.push(`${name}${label(m.limiterId)} ${m[field]}`);
  }
  out.push(
    '# HELP rate_sync_in_flight Concurrency permits held by this process.',
    '# TYPE rate_sync_in_flight gauge',
  );
  for (const m of metrics) out.push(`rate_sync_in_flight${label(m.limiterId)} ${m.inFlight}`);
  return `${out.join('\n')}\n`;
}
