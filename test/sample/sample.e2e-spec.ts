/**
 * The sample application (sample/src) in-process, on the memory engine, on Express and
 * Fastify: every route behaves as the issue and the sample's startup text say.
 *
 * Two set-ups. "as it runs": the sample's AppModule unchanged, real time (login, reports,
 * partner spacing, metrics, health). "on a manual clock": the same module and rate-sync.toml
 * with the module options overridden only to inject a ManualClock, for the behaviours whose
 * subject is time (the hello bucket's burst and refill, the login window's recovery).
 */
import './memory-engine'; // first: before the sample reads RATE_LIMIT_ENGINE
import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { LimiterService, ManualClock } from '@rate-sync/nestjs';
import request, { type Response } from 'supertest';
// The options token is internal: the test swaps the sample's clock through it.
import { RATE_SYNC_MODULE_OPTIONS } from '../../lib/nest/rate-sync.constants';
import { AppModule } from '../../sample/src/app.module';
import { rateSyncOptions } from '../../sample/src/rate-sync-options';
import { ADAPTERS, type AdapterName } from '../e2e/support/create-app';

async function startSample(adapter: AdapterName, clock?: ManualClock): Promise<INestApplication> {
  let builder = Test.createTestingModule({ imports: [AppModule] });
  if (clock) {
    builder = builder
      .overrideProvider(RATE_SYNC_MODULE_OPTIONS)
      .useValue({ ...rateSyncOptions(), clock });
  }
  const moduleRef = await builder.compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
          logger: false,
        });
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  await app.listen(0, '127.0.0.1');
  return app;
}

function login(app: INestApplication, email: string, password: string): request.Test {
  return request(app.getHttpServer()).post('/auth/login').send({ email, password });
}

const statuses = (responses: Response[]): number[] =>
  responses.map((r) => r.status).sort((a, b) => a - b);

describe.each(ADAPTERS)('sample app (%s)', (adapter) => {
  describe('as it runs (real clock)', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startSample(adapter);
    });
    afterAll(() => app?.close());

    it('POST /graphql { notes }: 3 queries per minute per user, then RATE_LIMITED with Retry-After', async () => {
      const notes = (user: string): request.Test =>
        request(app.getHttpServer())
          .post('/graphql')
          .set('x-user-id', user)
          .send({ query: '{ notes }' });
      for (let i = 0; i < 3; i++) {
        expect((await notes('ann')).body.data.notes).toHaveLength(2);
      }
      const rejected = await notes('ann');
      expect(rejected.body.errors[0].extensions).toMatchObject({
        code: 'RATE_LIMITED',
        limiter: 'graphql_notes',
      });
      // Apollo on Fastify keeps no reply in the default GraphQL context: no header there.
      if (adapter === 'express') expect(Number(rejected.headers['retry-after'])).toBeGreaterThan(0);
      expect((await notes('bob')).body.data.notes).toHaveLength(2);
    });

    it('POST /auth/login: 401 for a wrong password, 200 for "demo" (not counted), the 6th failed attempt of an IP + email is 429 with Retry-After', async () => {
      for (let i = 0; i < 4; i++) {
        expect((await login(app, 'a@example.com', 'wrong')).status).toBe(401);
      }
      // Successful logins are refunded: any number of them leaves one failed attempt.
      for (let i = 0; i < 3; i++) {
        const ok = await login(app, 'a@example.com', 'demo');
        expect(ok.status).toBe(200);
        expect(ok.body).toEqual({ token: 'demo-token-for-a@example.com' });
        expect(ok.headers['x-ratelimit-limit']).toBe('5');
        expect(ok.headers['x-ratelimit-remaining']).toBe('0');
      }
      expect((await login(app, 'a@example.com', 'wrong')).status).toBe(401);

      const sixth = await login(app, 'a@example.com', 'demo');
      expect(sixth.status).toBe(429);
      const retryAfter = Number(sixth.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(290);
      expect(retryAfter).toBeLessThanOrEqual(300);
      expect(sixth.body).toMatchObject({ statusCode: 429, limiter: 'login', retryAfter });

      // The key is IP + email: another email from the same IP has its own 5 attempts.
      expect((await login(app, 'b@example.com', 'demo')).status).toBe(200);
    });

    it('GET /reports/slow: 3 at once (max_concurrent 2, timeout 0) gives exactly one 429; the slots free when responses end', async () => {
      const server = app.getHttpServer();
      const started = performance.now();
      const three = await Promise.all([1, 2, 3].map(() => request(server).get('/reports/slow')));
      expect(statuses(three)).toEqual([200, 200, 429]);
      const rejected = three.find((r) => r.status === 429)!;
      expect(rejected.body).toMatchObject({ limiter: 'reports' });
      expect(Number(rejected.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(990); // the admitted ones took ~1 s

      const after = await Promise.all([1, 2].map(() => request(server).get('/reports/slow')));
      expect(statuses(after)).toEqual([200, 200]);
    });

    it('GET /partner/quote: a burst of 4 is spaced 500 ms apart by the service method (wait mode), none rejected', async () => {
      const server = app.getHttpServer();
      const four = await Promise.all([1, 2, 3, 4].map(() => request(server).get('/partner/quote')));
      expect(statuses(four)).toEqual([200, 200, 200, 200]);
      const at = four.map((r) => Date.parse(r.body.at)).sort((a, b) => a - b);
      // Lower bounds are the algorithm's guarantee (2/s, burst 1: slot i is 500*i ms after the
      // first). The timestamps are taken after admission, so the first one can be late by the
      // first call's own latency on a loaded machine (65 ms seen): 100 ms of slack, still far
      // from unspaced calls (0 ms apart). Consecutive slots are checked the same way. The upper
      // bound only shows that nobody waited for a later slot than its own.
      for (let i = 1; i < 4; i++) expect(at[i] - at[0]).toBeGreaterThanOrEqual(500 * i - 100);
      for (let i = 2; i < 4; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(400);
      expect(at[3] - at[0]).toBeLessThan(2500);
      const metrics = app.get(LimiterService).metrics('partner_api');
      expect(metrics).toMatchObject({ attempts: 4, allowed: 4, rejected: 0 });
      // The route has no @RateLimit: the defaultLimit counts it (120 per 60 s per IP).
      expect(four[0].headers['x-ratelimit-limit']).toBe('120');
    });

    it('the defaultLimit leaves /health and /metrics alone', async () => {
      const server = app.getHttpServer();
      for (const path of ['/health', '/metrics']) {
        const res = await request(server).get(path);
        expect(res.status).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    });

    it('GET /metrics and GET /health', async () => {
      const server = app.getHttpServer();
      const metrics = await request(server).get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
      // After the sequence above: login 5 allowed then a 429 (and one more allowed for another
      // email); reports 200, 200, 429, then 200, 200; partner one at once, three spaced.
      const series = (limiter: string, outcome: string) =>
        `rate_sync_decisions_total{limiter="${limiter}",store="main",outcome="${outcome}"}`;
      expect(metrics.text).toContain(`${series('login', 'rejected')} 1\n`);
      expect(metrics.text).toContain(`${series('reports', 'allowed')} 4\n`);
      expect(metrics.text).toContain(`${series('reports', 'rejected')} 1\n`);
      expect(metrics.text).toContain(`${series('partner_api', 'allowed')} 1\n`);
      expect(metrics.text).toContain(`${series('partner_api', 'waited')} 3\n`);
      expect(metrics.text).toContain(
        'rate_sync_wait_seconds_count{limiter="partner_api",store="main"} 3',
      );
      expect(metrics.text).toMatch(/rate_sync_decision_duration_seconds_count\{store="main"\} \d+/);
      expect(metrics.text).toContain('rate_sync_slots_held{limiter="reports",store="main"} 0');
      expect(metrics.text).toContain('rate_sync_store_breaker_state{store="main"} 0');
      const health = await request(server).get('/health');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({
        status: 'ok',
        info: {
          rate_sync: {
            status: 'up',
            stores: [{ store: 'main', engine: 'memory', up: true, breaker: 'closed' }],
          },
        },
        error: {},
        details: {
          rate_sync: {
            status: 'up',
            stores: [{ store: 'main', engine: 'memory', up: true, breaker: 'closed' }],
          },
        },
      });
    });
  });

  describe('on a manual clock', () => {
    let app: INestApplication;
    let clock: ManualClock;
    beforeAll(async () => {
      clock = new ManualClock();
      app = await startSample(adapter, clock);
    });
    afterAll(() => app?.close());

    it('GET /api/hello: a burst of 21 from one IP gives exactly one 429 (burst 20), then 10/s', async () => {
      const server = app.getHttpServer();
      const burst = await Promise.all(
        Array.from({ length: 21 }, () => request(server).get('/api/hello')),
      );
      expect(statuses(burst)).toEqual([...Array(20).fill(200), 429]);
      const rejected = burst.find((r) => r.status === 429)!;
      expect(rejected.headers['retry-after']).toBe('1'); // 100 ms, rounded up to a second
      expect(rejected.body).toMatchObject({ limiter: 'api', retryAfterMs: 100 });

      await clock.advance(100); // one emission interval at 10/s
      expect((await request(server).get('/api/hello')).status).toBe(200);
      expect((await request(server).get('/api/hello')).status).toBe(429);
    });

    it('POST /auth/login: the window of 300 s recovers', async () => {
      for (let i = 0; i < 5; i++) expect((await login(app, 'c@example.com', 'x')).status).toBe(401);
      expect((await login(app, 'c@example.com', 'x')).status).toBe(429);
      await clock.advance(299_000);
      const still = await login(app, 'c@example.com', 'demo');
      expect(still.status).toBe(429);
      expect(still.headers['retry-after']).toBe('1');
      await clock.advance(1_000);
      expect((await login(app, 'c@example.com', 'demo')).status).toBe(200);
    });
  });
});
