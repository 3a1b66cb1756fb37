import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/** How to try every route, printed at startup. */
function usage(base: string, engine: string): string {
  const json = "-H 'content-type: application/json'";
  return `
rate-sync sample listening on ${base} (store engine: ${engine})

Try it:
  # GET /api/hello: token bucket per client IP, 10/s with bursts of 20
  curl -i ${base}/api/hello
  # 25 at once: about 20 answer 200 (the burst), the rest 429 until the bucket refills
  node -e "Promise.all([...Array(25)].map(() => fetch('${base}/api/hello').then((r) => r.status))).then((s) => console.log(s.join(' ')))"

  # POST /auth/login: 5 failed attempts per 300 s per IP + email (a success is not counted):
  # 401 x5, then 429 with Retry-After
  for i in $(seq 6); do curl -s -o /dev/null -w "%{http_code} " -X POST ${base}/auth/login \\
    ${json} -d '{"email":"a@example.com","password":"wrong"}'; done; echo
  curl -i -X POST ${base}/auth/login ${json} -d '{"email":"b@example.com","password":"demo"}'

  # GET /reports/slow: at most 2 at once (shared by all callers), ~1 s each: 200, 200, 429
  for i in 1 2 3; do curl -s -o /dev/null -w "%{http_code}\\n" ${base}/reports/slow & done; wait

  # GET /partner/quote: a service method limited to 2/s in wait mode: all 200, ~500 ms apart
  # (the route itself has no @RateLimit: the defaultLimit, 120 per 60 s per IP, counts it)
  for i in 1 2 3 4; do curl -s ${base}/partner/quote & done; wait; echo

  # POST /graphql { notes }: 3 queries per 60 s per user (x-user-id); the 4th is an error
  # with extensions.code RATE_LIMITED, and the response carries Retry-After
  for i in 1 2 3 4; do curl -s -i ${base}/graphql ${json} -H 'x-user-id: ann' \\
    -d '{"query":"{ notes }"}' | grep -iE 'retry-after|"data"'; done

  curl -s ${base}/metrics     # Prometheus metrics (prom-client): decisions, latency, slots
  curl -s ${base}/health      # terminus readiness: store reachability and circuit breaker
                              # (/health and /metrics are excluded from the defaultLimit)

Two processes sharing every limit: RATE_LIMIT_ENGINE=redis (REDIS_URL) or
RATE_LIMIT_ENGINE=postgres (DATABASE_URL), with PORT=3000 and PORT=3001.
On Redis, REDIS_DRIVER=node-redis connects with node-redis instead of ioredis.
`;
}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen(port, host);
  console.log(usage(`http://${host}:${port}`, process.env.RATE_LIMIT_ENGINE ?? 'memory'));
}

bootstrap().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
