import { Controller, Get } from '@nestjs/common';
import { LimiterService, RateLimit, RateSyncModule } from '@rate-sync/nestjs';
import request from 'supertest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

@Controller()
class TryController {
  @Get('try')
  @RateLimit('trial')
  try(): string {
    return 'ok';
  }
}

describe.each(ADAPTERS)('shadow mode over HTTP (%s)', (adapter) => {
  let app: TestApp;
  afterEach(() => app?.close());

  it.each([
    ['enforce = false on the limiter', { enforce: false }, {}],
    ['enforce: false on the module', {}, { enforce: false }],
  ])('%s: every request proceeds, without rate-limit headers', async (_, limiter, module) => {
    app = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          metrics: { prometheus: false, openTelemetry: false },
          stores: { local: { engine: 'memory' } },
          limiters: { trial: { store: 'local', ratePerSecond: 0.001, burst: 1, ...limiter } },
          ...module,
        }),
      ],
      controllers: [TryController],
    });
    const responses = [];
    for (let i = 0; i < 3; i++) responses.push(await request(app.url).get('/try'));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(responses[2].headers['x-ratelimit-limit']).toBeUndefined();
    expect(responses[2].headers['retry-after']).toBeUndefined();
    expect(app.app.get(LimiterService).metrics('trial')).toMatchObject({
      allowed: 1,
      shadowRejected: 2,
    });
  });

  it('enforces by default: the second request is 429', async () => {
    app = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { local: { engine: 'memory' } },
          limiters: { trial: { store: 'local', ratePerSecond: 0.001, burst: 1 } },
        }),
      ],
      controllers: [TryController],
    });
    expect((await request(app.url).get('/try')).status).toBe(200);
    expect((await request(app.url).get('/try')).status).toBe(429);
  });
});
