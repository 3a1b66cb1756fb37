import { whyRedisUnreachable } from '../lib/redis-probe';
import { AppProcess } from '../http/app-process';
import {
  ADAPTERS,
  BENCH_REDIS_URL,
  NEEDS_SERVER,
  VARIANTS,
  VARIANT_LABEL,
  type AppVariant,
  type HttpAdapterName,
} from '../http/app-variant';
import { CONNECTIONS, load } from '../http/load';
import { costGoal, find, ratioGoal } from '../report/goals';
import { runRounds, type RoundEntry } from '../rounds';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';

const ADAPTER_LABEL: Record<HttpAdapterName, string> = { express: 'Express', fastify: 'Fastify' };
/** The extra column with the app's own CPU time per request. */
const SERVER_CPU = 'server CPU µs/req';
/** "Within a few µs of the floor": server CPU per request above the no-op guard's. */
const FLOOR_SLACK_MICROS = 5;

function caseOf(adapter: HttpAdapterName, variant: AppVariant): string {
  const label = ADAPTER_LABEL[adapter];
  return VARIANT_LABEL[variant].rejecting
    ? `${label}, limit always exceeded (429)`
    : `${label}, limit never reached`;
}

/**
 * HTTP overhead: a minimal Nest app (one JSON route) in its own process per variant, loaded by
 * autocannon from this process (50 connections). Every app process lives for the whole suite;
 * each round warms it up (a tenth of the run, at least 0.5 s), then measures it while it counts
 * its own CPU time, so "server CPU µs/req" shows the cost per request whoever the bottleneck is.
 */
export const httpSuite: BenchSuite = {
  name: 'http',
  description:
    `A Nest 11 app with one JSON route (GET / -> {"hello":"world"}), Express and Fastify, in its own process; ` +
    `autocannon with ${CONNECTIONS} connections from one client IP. Same app, same route, same load for every contender.`,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const durationMs = options.httpDurationMs ?? (options.smoke ? 300 : 5000);
    const warmMs = Math.max(options.smoke ? 100 : 500, durationMs / 10);
    const apps = new Map<string, AppProcess>();
    try {
      // Booting is not measured: start every app at once (an idle app costs no CPU). The
      // Redis app only when Redis answers: a store that is down at boot fails open, and its
      // app would measure that instead.
      const redisUp = (await whyRedisUnreachable(BENCH_REDIS_URL)) === null;
      if (!redisUp) {
        if (process.env.CI === 'true') throw new Error(`Redis at ${BENCH_REDIS_URL} is down`);
        console.warn(`  http · Redis at ${BENCH_REDIS_URL} is down: the redis app is left out`);
      }
      const started = ADAPTERS.flatMap((adapter) =>
        VARIANTS.filter((v) => redisUp || !NEEDS_SERVER.includes(v)).map(async (variant) =>
          apps.set(`${adapter}/${variant}`, await AppProcess.start(adapter, variant)),
        ),
      );
      const failed = (await Promise.allSettled(started)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const entries: RoundEntry[] = [];
      for (const adapter of ADAPTERS) {
        for (const variant of VARIANTS) {
          const app = apps.get(`${adapter}/${variant}`);
          if (!app) continue;
          const expect2xx = !VARIANT_LABEL[variant].rejecting;
          entries.push({
            case: caseOf(adapter, variant),
            contender: VARIANT_LABEL[variant].contender,
            concurrency: CONNECTIONS,
            run: async () => {
              await load(app.url, warmMs, expect2xx);
              const { value, cpuMicros } = await app.withCpu(() =>
                load(app.url, durationMs, expect2xx),
              );
              const perRequest = value.requests ? cpuMicros / value.requests : 0;
              return {
                ...value.sample,
                extra: {
                  ...value.sample.extra,
                  [SERVER_CPU]: Math.round(perRequest * 10) / 10,
                },
              };
            },
          });
        }
      }
      return await runRounds(this.name, entries, options);
    } finally {
      await Promise.all([...apps.values()].map((app) => app.stop()));
    }
  },
  goals(rows: readonly BenchRow[]): GoalCheck[] {
    return ADAPTERS.flatMap((adapter) => {
      const c = caseOf(adapter, 'rate-sync');
      const row = (v: AppVariant): BenchRow | undefined =>
        find(rows, { case: c, contender: VARIANT_LABEL[v].contender });
      const label = ADAPTER_LABEL[adapter];
      const memoryFloor = adapter === 'fastify' ? 0.9 : 0.95;
      return [
        ratioGoal(
          `${label}: @RateLimit (memory) keeps at least ${memoryFloor * 100}% of the bare app's req/s`,
          row('rate-sync'),
          row('bare'),
          memoryFloor,
        ),
        ...(adapter === 'fastify'
          ? [
              ratioGoal(
                `${label}: @RateLimit (redis) keeps at least 85% of the bare app's req/s`,
                row('rate-sync-redis'),
                row('bare'),
                0.85,
              ),
            ]
          : []),
        costGoal(
          `${label}: @RateLimit (memory) costs at most ${FLOOR_SLACK_MICROS} µs of server CPU per request above a no-op global guard`,
          SERVER_CPU,
          row('rate-sync'),
          row('noop-guard'),
          { slack: FLOOR_SLACK_MICROS },
        ),
        ratioGoal(
          `${label}: prom-client metrics keep at least 95% of @RateLimit's req/s`,
          row('rate-sync-prom'),
          row('rate-sync'),
          0.95,
        ),
        ratioGoal(
          `${label}: @RateLimit at least as fast as @nestjs/throttler`,
          row('rate-sync'),
          row('throttler'),
          1,
        ),
      ];
    });
  },
};
