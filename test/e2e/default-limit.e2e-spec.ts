import { Controller, Get, Logger, Post } from '@nestjs/common';
import request from 'supertest';
import {
  LimiterService,
  RateLimit,
  RateSyncModule,
  SkipRateLimit,
  type RateSyncModuleOptions,
} from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

const WINDOW = { store: 'mem', algorithm: 'sliding_window' as const, windowSeconds: 60 };

/** No decorator anywhere: only `defaultLimit` can limit these. */
@Controller('items')
class ItemsController {
  @Get()
  list(): string {
    return 'list';
  }

  @Get(':id')
  one(): string {
    return 'one';
  }

  @Post()
  create(): string {
    return 'created';
  }
}

@Controller()
class HealthController {
  @Get('health')
  health(): string {
    return 'ok';
  }
}

@Controller('admin')
class AdminController {
  @Get('own')
  @RateLimit('one')
  own(): string {
    return 'own';
  }

  @Get('free')
  @SkipRateLimit()
  free(): string {
    return 'free';
  }
}

@Controller('skipped')
@SkipRateLimit()
class SkippedController {
  @Get()
  all(): string {
    return 'skipped';
  }
}

function options(extra: Partial<RateSyncModuleOptions> = {}): RateSyncModuleOptions {
  return {
    configFile: false,
    stores: { mem: { engine: 'memory' } },
    limiters: { api: { ...WINDOW, limit: 3 }, one: { ...WINDOW, limit: 1 } },
    defaultLimit: { limiters: 'api', exclude: ['/health'] },
    ...extra,
  };
}

const CONTROLLERS = [ItemsController, HealthController, AdminController, SkippedController];

describe.each(ADAPTERS)('defaultLimit (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const boot = async (
    extra?: Partial<RateSyncModuleOptions>,
    prefix?: string,
    prefixExclude?: string[],
  ): Promise<TestApp> =>
    (t = await createApp(
      adapter,
      { imports: [RateSyncModule.forRoot(options(extra))], controllers: CONTROLLERS },
      prefix ? (app) => app.setGlobalPrefix(prefix, { exclude: prefixExclude }) : undefined,
    ));

  it('limits every route without a decorator, one bucket per client across them', async () => {
    const { url } = await boot();
    const first = await request(url).get('/items').expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    await request(url).get('/items/7').expect(200);
    await request(url).post('/items').expect(201);
    const rejected = await request(url).get('/items/8').expect(429);
    expect(rejected.body.limiter).toBe('api');
    expect(rejected.headers['retry-after']).toBeDefined();
  });

  it('leaves excluded routes, @SkipRateLimit() and routes with their own @RateLimit alone', async () => {
    const { url, app } = await boot();
    for (let i = 0; i < 5; i++) {
      const health = await request(url).get('/health').expect(200);
      expect(health.headers['x-ratelimit-limit']).toBeUndefined();
      await request(url).get('/admin/free').expect(200);
      await request(url).get('/skipped').expect(200);
    }
    await request(url).get('/admin/own').expect(200);
    await request(url).get('/admin/own').expect(429); // its own limit: 1, not the default 3
    expect((await app.get(LimiterService).state('api', '127.0.0.1')).remaining).toBe(3);
  });

  it('include narrows coverage; patterns match the path with the global prefix', async () => {
    const { url } = await boot(
      { defaultLimit: { limiters: 'one', include: ['/v2/items/*'], exclude: ['/v2/health'] } },
      'v2',
    );
    await request(url).get('/v2/items/1').expect(200);
    await request(url).get('/v2/items/2').expect(429);
    for (let i = 0; i < 3; i++) await request(url).get('/v2/items').expect(200);
  });

  it('a route excluded from the global prefix is matched without it', async () => {
    const { url } = await boot({ defaultLimit: { limiters: 'one', exclude: ['/health'] } }, 'api', [
      'health',
    ]);
    for (let i = 0; i < 3; i++) await request(url).get('/health').expect(200);
    await request(url).get('/api/items').expect(200);
    await request(url).get('/api/items').expect(429);
  });

  it('honours a key template and several limiters', async () => {
    const { url } = await boot({
      defaultLimit: { limiters: ['api', 'one'], key: '{headers.x-user}', exclude: ['/health'] },
    });
    await request(url).get('/items').set('x-user', 'a').expect(200);
    await request(url).get('/items').set('x-user', 'a').expect(429);
    await request(url).get('/items').set('x-user', 'b').expect(200);
  });

  it('perRoute: each route counts on its own (as @nestjs/throttler does)', async () => {
    const { url, app } = await boot({
      defaultLimit: { limiters: 'one', perRoute: true, exclude: ['/health'] },
    });
    await request(url).get('/items').expect(200);
    await request(url).get('/items').expect(429);
    await request(url).get('/items/1').expect(200);
    await request(url).get('/items/2').expect(429);
    await request(url).post('/items').expect(201);
    const state = await app.get(LimiterService).state('one', 'ItemsController.list:127.0.0.1');
    expect(state.remaining).toBe(0);
  });

  it('perRoute with an async key function: prefixed once the key is known', async () => {
    const { url, app } = await boot({
      defaultLimit: {
        limiters: 'one',
        perRoute: true,
        key: async (ctx) => ctx.switchToHttp().getRequest().headers['x-user'],
        exclude: ['/health'],
      },
    });
    await request(url).get('/items').set('x-user', 'ann').expect(200);
    await request(url).get('/items').set('x-user', 'ann').expect(429);
    await request(url).get('/items').set('x-user', 'bob').expect(200);
    await request(url).get('/items/1').set('x-user', 'ann').expect(200);
    const state = await app.get(LimiterService).state('one', 'ItemsController.list:ann');
    expect(state.remaining).toBe(0);
  });

  it('warns at boot about a pattern that matches no route', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await boot({ defaultLimit: { limiters: 'api', exclude: ['/healthz', '/health'] } });
      const warnings = warn.mock.calls
        .map(([m]) => String(m))
        .filter((m) => /defaultLimit/.test(m));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("'/healthz'");
      expect(warnings[0]).not.toContain("'/health'");
    } finally {
      warn.mockRestore();
    }
  });

  it.each([
    [{ limiters: 'nope' }, /^defaultLimit\.limiters: no limiter 'nope' is configured/],
    [
      { limiters: 'api', exclude: ['health'] },
      /^defaultLimit\.exclude\[0\]: expected a route pattern/,
    ],
    [{ limiters: 'api', include: ['/a*'] }, /^defaultLimit\.include\[0\]: .*whole segment/],
    [{ limiters: 'api', key: '{nope}' }, /^defaultLimit\.key: /],
    [{ limiter: 'api' }, /^defaultLimit\.limiter: unknown option/],
    [{ limiters: 'api', perRoute: 'yes' }, /^defaultLimit\.perRoute: expected a boolean/],
  ])('fails the boot on %j, naming the option', async (defaultLimit, message) => {
    await expect(
      boot({ defaultLimit: defaultLimit as RateSyncModuleOptions['defaultLimit'] }),
    ).rejects.toThrow(message);
  });
});
