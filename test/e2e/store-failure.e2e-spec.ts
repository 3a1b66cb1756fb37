import { Controller, Get, Logger } from '@nestjs/common';
import request from 'supertest';
import { RateSync, StoreUnavailableError } from '../../lib/core';
import { MemoryEngine } from '../../lib/core/engines/memory';
import { RateLimit, RateSyncModule } from '../../lib/nest';
import { ADAPTERS, createApp, type AdapterName, type TestApp } from './support/create-app';

@Controller()
class GuardedController {
  @Get('strict')
  @RateLimit('strict')
  strict(): string {
    return 'strict';
  }

  @Get('lenient')
  @RateLimit('lenient')
  lenient(): string {
    return 'lenient';
  }
}

const UNREACHABLE_REDIS = {
  engine: 'redis' as const,
  url: 'redis://127.0.0.1:1',
  socketConnectTimeout: 1,
};

function boot(adapter: AdapterName, store: object, failClosed: boolean): Promise<TestApp> {
  return createApp(adapter, {
    imports: [
      RateSyncModule.forRoot({
        configFile: false,
        stores: { main: store },
        limiters: {
          strict: { store: 'main', ratePerSecond: 100, burst: 100, failClosed },
          lenient: { store: 'main', ratePerSecond: 100, burst: 100 },
        },
      }),
    ],
    controllers: [GuardedController],
  });
}

describe.each(ADAPTERS)('store failures (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a fail_closed limiter answers 503 with Retry-After when its store fails', async () => {
    t = await boot(adapter, { engine: 'memory' }, true);
    const engine = t.app.get(RateSync).limiter('strict').store.engine;
    await request(t.url).get('/strict').expect(200);
    // The memory engine also decides synchronously; fail both ways, like a store that is down.
    const failingSync = jest.spyOn(engine as MemoryEngine, 'acquireSync').mockImplementation(() => {
      throw new Error('connection reset');
    });
    const failing = jest.spyOn(engine, 'acquire').mockRejectedValue(new Error('connection reset'));
    const res = await request(t.url).get('/strict').expect(503);
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringContaining("'strict'"),
      limiter: 'strict',
      retryAfter: Number(res.headers['retry-after']),
    });
    expect(JSON.stringify(res.body)).not.toContain('connection reset');
    // The fail-open limiter on the same store admits meanwhile, without made-up headers.
    const open = await request(t.url).get('/lenient').expect(200);
    expect(open.headers['x-ratelimit-limit']).toBeUndefined();
    failing.mockRestore();
    failingSync.mockRestore();
  });

  it('the boot fails when a fail_closed limiter’s store is unreachable', async () => {
    await expect(boot(adapter, UNREACHABLE_REDIS, true)).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  it('a fail-open limiter’s unreachable store boots (warning) and admits', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    t = await boot(adapter, UNREACHABLE_REDIS, false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("store 'main' is unreachable"));
    warn.mockRestore();
    await request(t.url).get('/strict').expect(200);
    await request(t.url).get('/lenient').expect(200);
    expect((await t.app.get(RateSync).health())[0]).toMatchObject({ store: 'main', up: false });
  });
});
