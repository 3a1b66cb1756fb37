/** The applications the HTTP suite measures, all serving the same one JSON route. */
export type AppVariant =
  | 'bare'
  | 'noop-guard'
  | 'rate-sync'
  | 'rate-sync-prom'
  | 'rate-sync-redis'
  | 'throttler'
  | 'rate-sync-reject'
  | 'throttler-reject';
export type HttpAdapterName = 'express' | 'fastify';

export const VARIANTS: readonly AppVariant[] = [
  'bare',
  'noop-guard',
  'rate-sync',
  'rate-sync-prom',
  'rate-sync-redis',
  'throttler',
  'rate-sync-reject',
  'throttler-reject',
];
export const ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

/** How each variant is named in the tables, and which case it belongs to. */
export const VARIANT_LABEL: Record<AppVariant, { contender: string; rejecting: boolean }> = {
  bare: { contender: 'bare (no limiter)', rejecting: false },
  'noop-guard': { contender: 'no-op global guard (Nest floor)', rejecting: false },
  'rate-sync': { contender: 'rate-sync @RateLimit (memory)', rejecting: false },
  'rate-sync-prom': {
    contender: 'rate-sync @RateLimit (memory) + prom-client metrics',
    rejecting: false,
  },
  'rate-sync-redis': { contender: 'rate-sync @RateLimit (redis)', rejecting: false },
  throttler: { contender: '@nestjs/throttler (default storage)', rejecting: false },
  'rate-sync-reject': { contender: 'rate-sync @RateLimit (memory)', rejecting: true },
  'throttler-reject': { contender: '@nestjs/throttler (default storage)', rejecting: true },
};

/** Variants that need a server; the suite leaves them out, with a notice, when it is down. */
export const NEEDS_SERVER: readonly AppVariant[] = ['rate-sync-redis'];

/** The Redis of the `rate-sync-redis` variant (as the Redis suite: a quiet one is best). */
export const BENCH_REDIS_URL =
  process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Parent -> app messages over the IPC channel. */
export type AppCommand = { type: 'cpu-start' } | { type: 'cpu-stop' } | { type: 'exit' };
/** App -> parent messages. */
export type AppReply =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; micros: number }
  | { type: 'error'; message: string };
