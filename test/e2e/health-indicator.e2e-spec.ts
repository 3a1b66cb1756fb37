import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { RateSyncHealthIndicator, RateSyncModule } from '@rate-sync/nestjs';
import request from 'supertest';
import { RedisServer, sparePort } from '../redis/redis-server';
import { describeRedisBinaries } from '../support/redis';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rateSync: RateSyncHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.rateSync.isHealthy('rate_sync')]);
  }
}

describeRedisBinaries('RateSyncHealthIndicator with @nestjs/terminus', () => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let server: RedisServer;
    let app: TestApp;

    beforeAll(async () => {
      server = new RedisServer(await sparePort(16500, 16600));
      await server.start();
      app = await createApp(adapter, {
        imports: [
          TerminusModule.forRoot({ logger: false }),
          RateSyncModule.forRoot({
            configFile: false,
            metrics: { prometheus: false, openTelemetry: false },
            stores: {
              main: {
                engine: 'redis',
                url: `redis://127.0.0.1:${server.port}`,
                socketTimeout: 0.3,
                socketConnectTimeout: 0.3,
                breakerCooldown: 30,
              },
              local: { engine: 'memory' },
            },
            limiters: {
              api: { store: 'main', ratePerSecond: 100 },
              other: { store: 'local', ratePerSecond: 100 },
            },
          }),
        ],
        controllers: [HealthController],
      });
    }, 20_000);

    afterAll(async () => {
      await app?.close();
      await server?.dispose();
    });

    it('is up while Redis answers, and down (503) within seconds of its stop, with no traffic', async () => {
      const up = await request(app.app.getHttpServer()).get('/ready');
      expect(up.status).toBe(200);
      expect(up.body.info.rate_sync).toEqual({
        status: 'up',
        stores: [
          { store: 'main', engine: 'redis', up: true, breaker: 'closed' },
          { store: 'local', engine: 'memory', up: true, breaker: 'closed' },
        ],
      });

      await server.stop();
      // No decision traffic: the indicator's own probe (at most a second old) sees the outage.
      const deadline = performance.now() + 5000;
      let down = await request(app.app.getHttpServer()).get('/ready');
      while (down.status === 200 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        down = await request(app.app.getHttpServer()).get('/ready');
      }
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('error');
      expect(down.body.error.rate_sync.status).toBe('down');
      expect(down.body.error.rate_sync.stores).toEqual([
        expect.objectContaining({ store: 'main', engine: 'redis', up: false, breaker: 'closed' }),
        { store: 'local', engine: 'memory', up: true, breaker: 'closed' },
      ]);

      const indicator = app.app.get(RateSyncHealthIndicator);
      expect(await indicator.isHealthy('local', { stores: ['local'] })).toEqual({
        local: {
          status: 'up',
          stores: [{ store: 'local', engine: 'memory', up: true, breaker: 'closed' }],
        },
      });
    }, 20_000);
  });
});
