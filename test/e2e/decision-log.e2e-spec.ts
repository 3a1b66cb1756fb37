import { Controller, Get, type LoggerService } from '@nestjs/common';
import { ManualClock, RateLimit, RateSyncModule, type DecisionLogEntry } from '@rate-sync/nestjs';
import request from 'supertest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

@Controller()
class LoginController {
  @Get('login')
  @RateLimit('login', { key: '{query.email}' })
  login(): string {
    return 'ok';
  }
}

/** Keeps what the `RateSyncDecisions` context logs. */
function captureLogger(): LoggerService & { entries: DecisionLogEntry[] } {
  const entries: DecisionLogEntry[] = [];
  return {
    entries,
    log: (message: unknown, context?: string) => {
      if (context === 'RateSyncDecisions') entries.push(message as DecisionLogEntry);
    },
    error: () => undefined,
    warn: () => undefined,
  };
}

describe.each(ADAPTERS)('decision log (%s)', (adapter) => {
  let app: TestApp;
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock();
  });
  afterEach(() => app?.close());

  const start = async (limiter: object, decisionLog: object | boolean) => {
    const logger = captureLogger();
    app = await createApp(
      adapter,
      {
        imports: [
          RateSyncModule.forRoot({
            configFile: false,
            metrics: { prometheus: false, openTelemetry: false },
            stores: { local: { engine: 'memory' } },
            limiters: { login: { store: 'local', ratePerSecond: 0.001, burst: 1, ...limiter } },
            decisionLog,
            clock,
          }),
        ],
        controllers: [LoginController],
      },
      (a) => a.useLogger(logger),
    );
    return logger;
  };

  it('logs each rejection with limiter, handler, retry delay and a hash, never the identifier', async () => {
    const logger = await start({}, true);
    for (const email of ['a@example.com', 'a@example.com', 'a@example.com', 'b@example.com']) {
      await request(app.url).get(`/login?email=${email}`);
    }
    expect(logger.entries).toEqual([
      {
        event: 'rate_limit.rejected',
        limiter: 'login',
        handler: 'LoginController.login',
        retryAfterMs: expect.any(Number),
        keyHash: expect.stringMatching(/^[0-9a-f]{12}$/),
      },
      expect.objectContaining({ event: 'rate_limit.rejected' }),
    ]);
    expect(logger.entries[0].retryAfterMs).toBeGreaterThan(0);
    expect(logger.entries[1].keyHash).toBe(logger.entries[0].keyHash);
    expect(JSON.stringify(logger.entries)).not.toContain('example.com');
  });

  it('logs would-be rejections in shadow mode, at most maxPerSecond a second', async () => {
    const logger = await start({ enforce: false }, { maxPerSecond: 2 });
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await request(app.url).get('/login?email=x')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(logger.entries.map((e) => e.event)).toEqual([
      'rate_limit.shadow_rejected',
      'rate_limit.shadow_rejected',
    ]);
    await clock.advance(1000);
    await request(app.url).get('/login?email=x');
    expect(logger.entries[2]).toMatchObject({ event: 'rate_limit.shadow_rejected', suppressed: 3 });
  });

  it('is off by default', async () => {
    const logger = await start({}, false);
    for (let i = 0; i < 3; i++) await request(app.url).get('/login?email=x');
    expect(logger.entries).toEqual([]);
  });
});
