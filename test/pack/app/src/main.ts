import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { LimiterService, RateLimitExceededError } from '@rate-sync/nestjs';
import { AppModule, QuoteService } from './app.module.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const checks: Check[] = [];
function check(name: string, ok: boolean, detail: unknown): void {
  checks.push({ name, ok, detail: typeof detail === 'string' ? detail : JSON.stringify(detail) });
}

async function httpChecks(base: string): Promise<void> {
  const answers: { status: number; headers: Headers; body: unknown }[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${base}/hello`);
    answers.push({ status: res.status, headers: res.headers, body: await res.json() });
  }
  const statuses = answers.map((a) => a.status);
  check(
    'GET /hello x4 at burst 3: 200 200 200 429',
    statuses.join() === '200,200,200,429',
    statuses,
  );
  const first = answers[0].headers;
  const remaining = answers.map((a) => a.headers.get('x-ratelimit-remaining'));
  check(
    'admitted answers carry X-RateLimit-Limit/Remaining/Reset',
    first.get('x-ratelimit-limit') === '3' &&
      remaining.slice(0, 3).join() === '2,1,0' &&
      /^\d+$/.test(first.get('x-ratelimit-reset') ?? ''),
    { limit: first.get('x-ratelimit-limit'), remaining, reset: first.get('x-ratelimit-reset') },
  );
  const rejected = answers[3];
  const body = rejected.body as { limiter?: string; retryAfter?: number };
  const retryAfter = Number(rejected.headers.get('retry-after'));
  check(
    '429 carries Retry-After and a JSON body naming the limiter',
    retryAfter >= 1 && body.limiter === 'hello' && body.retryAfter === retryAfter,
    { retryAfter: rejected.headers.get('retry-after'), body },
  );
  const free: number[] = [];
  let freeHeader: string | null = null;
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${base}/free`);
    free.push(res.status);
    freeHeader ??= res.headers.get('x-ratelimit-limit');
    await res.arrayBuffer();
  }
  check(
    '@SkipRateLimit route: 5 x 200, no headers',
    free.every((s) => s === 200) && !freeHeader,
    free,
  );
}

async function serviceChecks(limiters: LimiterService): Promise<void> {
  const held = await limiters.tryAcquire('jobs');
  const second = await limiters.tryAcquire('jobs');
  await held?.release();
  const third = await limiters.tryAcquire('jobs');
  await third?.release();
  check(
    'LimiterService.tryAcquire at max_concurrent 1: permit, null, permit after release',
    held !== null && second === null && third !== null,
    { held: !!held, second: !!second, third: !!third },
  );
  const state = await limiters.state('hello', '127.0.0.1');
  check(
    "LimiterService.state reads the client IP's bucket",
    state.limiterId === 'hello' &&
      state.limit === 3 &&
      state.remaining >= 0 &&
      state.remaining <= 1,
    state,
  );
  const ids = limiters.list().map((l) => l.id);
  check(
    'LimiterService.list names the limiters',
    ['hello', 'quote', 'jobs'].every((id) => ids.includes(id)),
    ids,
  );
  const m = limiters.metrics('hello');
  check(
    'LimiterService.metrics counted the HTTP decisions (4 attempts, 3 allowed, 1 rejected)',
    m.attempts === 4 && m.allowed === 3 && m.rejected === 1,
    m,
  );
}

async function providerChecks(quotes: QuoteService): Promise<void> {
  const first = await quotes.fetchQuote('ACME');
  let rejection: unknown;
  try {
    await quotes.fetchQuote('ACME');
  } catch (err) {
    rejection = err;
  }
  const ok =
    first === 'quote:ACME' &&
    rejection instanceof RateLimitExceededError &&
    rejection.result.limiterId === 'quote' &&
    rejection.result.retryAfterMs > 0 &&
    quotes.calls === 1;
  check('@RateLimit provider method, try mode: 2nd call throws RateLimitExceededError', ok, {
    first,
    rejection: rejection instanceof Error ? `${rejection.name}: ${rejection.message}` : rejection,
    calls: quotes.calls,
  });
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  try {
    await httpChecks(`http://127.0.0.1:${port}`);
    await serviceChecks(app.get(LimiterService));
    await providerChecks(app.get(QuoteService));
  } finally {
    await app.close();
  }
  for (const c of checks)
    console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : `\n       got ${c.detail}`}`);
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`  ${checks.length - failed}/${checks.length} checks passed`);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
