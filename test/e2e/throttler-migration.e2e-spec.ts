/**
 * The usage examples of @nestjs/throttler's documentation, ported as docs/migrating-from-throttler.md
 * maps them, each proving that the mapping behaves as the original: same counts, same routes
 * left alone, same answers. Every app runs on a ManualClock, so windows pass without sleeping.
 */
import { ConfigModule, ConfigService } from '@nestjs/config';
import {
  Controller,
  Get,
  Injectable,
  Post,
  type ExecutionContext,
  type ModuleMetadata,
} from '@nestjs/common';
import request from 'supertest';
import { ManualClock } from '../../lib/core';
import {
  RateLimit,
  RateLimitGuard,
  RateSyncModule,
  SkipRateLimit,
  type RateSyncModuleOptions,
  type RequestLike,
} from '../../lib/nest';
import { ADAPTERS, createApp, type AdapterName, type TestApp } from './support/create-app';

/** `{ ttl: 60000, limit: 10 }` becomes a sliding window of 10 per 60 s (ttl in seconds here). */
const window = (limit: number, windowSeconds: number): object => ({
  store: 'mem',
  algorithm: 'sliding_window',
  limit,
  windowSeconds,
});

/** The three named throttlers of the documentation: short, medium, long. */
const NAMED = { short: window(3, 1), medium: window(20, 10), long: window(100, 60) };

function options(clock: ManualClock, extra: Partial<RateSyncModuleOptions>): RateSyncModuleOptions {
  return { configFile: false, stores: { mem: { engine: 'memory' } }, clock, ...extra };
}

/** `@Controller('users')` with no decorator: limited by the global guard in throttler. */
@Controller('users')
class UsersController {
  @Get()
  findAll(): string {
    return 'users';
  }

  @Get(':id')
  findOne(): string {
    return 'user';
  }
}

describe.each(ADAPTERS)('@nestjs/throttler examples, migrated (%s)', (adapter: AdapterName) => {
  let t: TestApp;
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock(Date.now());
  });
  afterEach(() => t.close());
  const boot = async (extra: Partial<RateSyncModuleOptions>, metadata: ModuleMetadata) =>
    (t = await createApp(adapter, {
      ...metadata,
      imports: [RateSyncModule.forRoot(options(clock, extra)), ...(metadata.imports ?? [])],
    }));
  const statuses = async (path: string, n: number, method: 'get' | 'post' = 'get') => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await request(t.url)[method](path)).status);
    return out;
  };
  const ok = (n: number, status = 200): number[] => Array<number>(n).fill(status);

  it('forRoot([{ ttl: 60000, limit: 10 }]) + APP_GUARD -> defaultLimit perRoute', async () => {
    await boot(
      {
        limiters: { default: window(10, 60) },
        defaultLimit: { limiters: 'default', perRoute: true },
      },
      { controllers: [UsersController] },
    );
    expect(await statuses('/users', 11)).toEqual([...ok(10), 429]);
    // Each route has its own count, as in throttler (its key holds the class and handler).
    expect(await statuses('/users/1', 10)).toEqual(ok(10));
    await clock.advance(60_000);
    expect(await statuses('/users', 1)).toEqual([200]);
  });

  it('short / medium / long -> three limiters, one composite: every definition applies', async () => {
    await boot(
      { limiters: NAMED, defaultLimit: { limiters: ['short', 'medium', 'long'], perRoute: true } },
      { controllers: [UsersController] },
    );
    const first = await request(t.url).get('/users');
    expect(first.status).toBe(200);
    expect(await statuses('/users', 3)).toEqual([200, 200, 429]); // short: 3 per second
    const rejected = await request(t.url).get('/users');
    expect(rejected.body.limiter).toBe('short');
    let admitted = 3;
    while (admitted < 20) {
      await clock.advance(1_000);
      for (let i = 0; i < 3 && admitted < 20; i++, admitted++) {
        expect((await request(t.url).get('/users')).status).toBe(200);
      }
    }
    await clock.advance(1_000);
    const medium = await request(t.url).get('/users');
    expect(medium.status).toBe(429); // medium: 20 per 10 s
    expect(medium.body.limiter).toBe('medium');
  });

  it('@SkipThrottle({ short: true, medium: true }) -> the controller declares the rest', async () => {
    @Controller('users')
    @RateLimit('long') // short and medium skipped: only long applies
    class SkippingUsersController {
      @Get()
      findAll(): string {
        return 'users';
      }
    }
    await boot(
      { limiters: NAMED, defaultLimit: { limiters: ['short', 'medium', 'long'], perRoute: true } },
      { controllers: [SkippingUsersController] },
    );
    expect(await statuses('/users', 30)).toEqual(ok(30)); // short and medium would have refused
    const res = await request(t.url).get('/users');
    expect(res.headers['x-ratelimit-limit']).toBe('100');
  });

  it('@Throttle({ default: { limit: 3, ttl: 60000 } }) -> @RateLimit of a limiter of its own', async () => {
    @Controller('users')
    class ThrottledUsersController {
      @Get()
      @RateLimit('users_find_all') // [limiters.users_find_all] limit = 3, window_seconds = 60
      findAll(): string {
        return 'List users works with custom rate limiting.';
      }

      @Get('other')
      other(): string {
        return 'other';
      }
    }
    await boot(
      {
        limiters: { default: window(10, 60), users_find_all: window(3, 60) },
        defaultLimit: { limiters: 'default', perRoute: true },
      },
      { controllers: [ThrottledUsersController] },
    );
    expect(await statuses('/users', 4)).toEqual([200, 200, 200, 429]);
    expect(await statuses('/users/other', 11)).toEqual([...ok(10), 429]);
  });

  it('@UseGuards(ThrottlerGuard) on one controller -> @RateLimit on it, no defaultLimit', async () => {
    @Controller('reports')
    @RateLimit('default')
    class ReportsController {
      @Get()
      list(): string {
        return 'reports';
      }
    }
    await boot(
      { limiters: { default: window(2, 60) } },
      {
        controllers: [ReportsController, UsersController],
      },
    );
    expect(await statuses('/reports', 3)).toEqual([200, 200, 429]);
    expect(await statuses('/users', 5)).toEqual(ok(5)); // no guard bound there: no limit
  });

  it('@SkipThrottle() on the class, @SkipThrottle({ default: false }) on a route', async () => {
    @Controller('users')
    @SkipRateLimit()
    class MostlySkippedController {
      @Get('limited')
      @RateLimit('default') // a handler's @RateLimit wins over the class's @SkipRateLimit()
      dontSkip(): string {
        return 'List users work with Rate limiting.';
      }

      @Get('free')
      doSkip(): string {
        return 'List users work without Rate limiting.';
      }
    }
    await boot(
      { limiters: { default: window(2, 60) }, defaultLimit: { limiters: 'default' } },
      { controllers: [MostlySkippedController] },
    );
    expect(await statuses('/users/limited', 3)).toEqual([200, 200, 429]);
    expect(await statuses('/users/free', 5)).toEqual(ok(5));
  });

  it('@SkipThrottle({ long: true }) on login -> @RateLimit naming the others', async () => {
    @Controller('auth')
    class AuthController {
      @Post('login')
      @RateLimit(['short', 'medium'])
      login(): string {
        return 'logged in';
      }
    }
    await boot({ limiters: NAMED }, { controllers: [AuthController] });
    expect(await statuses('/auth/login', 4, 'post')).toEqual([201, 201, 201, 429]);
    const res = await request(t.url).post('/auth/login');
    expect(res.headers['x-ratelimit-limit']).toBe('3');
  });

  it('ThrottlerBehindProxyGuard (getTracker from req.ips) -> trustedProxies', async () => {
    await boot(
      {
        limiters: { default: window(1, 60) },
        defaultLimit: { limiters: 'default' },
        trustedProxies: ['127.0.0.1'],
      },
      { controllers: [UsersController] },
    );
    const from = (ip: string) => request(t.url).get('/users').set('x-forwarded-for', ip);
    expect((await from('203.0.113.1')).status).toBe(200);
    expect((await from('203.0.113.2')).status).toBe(200); // another client behind the proxy
    expect((await from('203.0.113.1')).status).toBe(429);
    // Unlike req.ips[0], a forged left-most entry does not make a new client.
    expect((await from('6.6.6.6, 203.0.113.1')).status).toBe(429);
  });

  it('getTracker / generateKey -> a guard subclass, or a key', async () => {
    @Injectable()
    class ApiKeyGuard extends RateLimitGuard {
      protected override getTracker(request: RequestLike): string {
        return String(request.headers?.['x-api-key'] ?? 'anonymous');
      }
    }
    await boot(
      {
        limiters: { default: window(1, 60) },
        defaultLimit: { limiters: 'default' },
        guard: ApiKeyGuard,
      },
      { controllers: [UsersController] },
    );
    const as = (key: string) => request(t.url).get('/users').set('x-api-key', key);
    expect((await as('a')).status).toBe(200);
    expect((await as('b')).status).toBe(200);
    expect((await as('a')).status).toBe(429);
  });

  it('skipIf and ignoreUserAgents -> skip', async () => {
    const ignoreUserAgents = [/googlebot/i];
    const skip = (ctx: ExecutionContext): boolean => {
      const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
      if (req.headers['x-internal'] === 'yes') return true; // skipIf
      return ignoreUserAgents.some((re) => re.test(req.headers['user-agent'] ?? '')); // ignoreUserAgents
    };
    await boot(
      { limiters: { default: window(1, 60) }, defaultLimit: { limiters: 'default' }, skip },
      { controllers: [UsersController] },
    );
    for (let i = 0; i < 3; i++) {
      await request(t.url).get('/users').set('user-agent', 'Googlebot/2.1').expect(200);
      await request(t.url).get('/users').set('x-internal', 'yes').expect(200);
    }
    await request(t.url).get('/users').expect(200);
    await request(t.url).get('/users').expect(429);
  });

  it('errorMessage -> errorBody; X-RateLimit-Reset as a delay -> resetHeader', async () => {
    await boot(
      {
        limiters: { default: window(1, 60) },
        defaultLimit: { limiters: 'default' },
        resetHeader: 'delay',
        errorBody: (refusal) => ({
          statusCode: 429,
          message: `Too many requests: wait ${refusal.retryAfter}s`,
        }),
      },
      { controllers: [UsersController] },
    );
    const admitted = await request(t.url).get('/users').expect(200);
    expect(admitted.headers['x-ratelimit-reset']).toBe('60'); // seconds from now, as throttler
    const res = await request(t.url).get('/users').expect(429);
    expect(res.body).toEqual({ statusCode: 429, message: 'Too many requests: wait 60s' });
    expect(res.headers['retry-after']).toBe('60');
  });

  it('forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory })', async () => {
    t = await createApp(adapter, {
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ THROTTLE_LIMIT: 2 })] }),
        RateSyncModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            options(clock, {
              limiters: { default: window(config.getOrThrow<number>('THROTTLE_LIMIT'), 60) },
              defaultLimit: { limiters: 'default' },
            }),
        }),
      ],
      controllers: [UsersController],
    });
    expect(await statuses('/users', 3)).toEqual([200, 200, 429]);
  });
});
