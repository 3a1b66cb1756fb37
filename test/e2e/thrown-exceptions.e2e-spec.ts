import {
  Catch,
  Controller,
  type INestApplication,
  type Provider,
  Get,
  HttpException,
  Injectable,
  Logger,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateLimitExceededError, StoreUnavailableError } from '../../lib/core';
import {
  LimiterService,
  RateLimit,
  RateLimitExceededException,
  RateLimitExceptionFilter,
  RateLimitUnavailableException,
  RateSyncModule,
  type RateLimitHeadersMode,
} from '../../lib/nest';
import { ADAPTERS, createApp, type AdapterName, type TestApp } from './support/create-app';
import { invokeAs } from './support/non-http-handlers';

/** The API-tiers recipe: a service decides and throws; the route has no @RateLimit. */
@Injectable()
class TierService {
  constructor(private readonly limiters: LimiterService) {}

  async charge(user: string): Promise<void> {
    const result = await this.limiters.check('tier', { key: user });
    if (!result.allowed) throw new RateLimitExceededException(result);
  }

  /** `LimiterService.run` refuses with the core error. */
  run(user: string): Promise<string> {
    return this.limiters.run('tier', async () => 'ran', { key: user, timeout: 0 });
  }
}

const outage = (): StoreUnavailableError => new StoreUnavailableError('main', 'strict', 2_500);

@Controller('thrown')
class ThrowingController {
  constructor(private readonly tiers: TierService) {}

  @Get('exception/:user')
  async exception(): Promise<string> {
    await this.tiers.charge('a');
    return 'charged';
  }

  @Get('error/:user')
  error(): Promise<string> {
    return this.tiers.run('b');
  }

  @Get('unavailable-exception')
  unavailableException(): never {
    throw new RateLimitUnavailableException(outage());
  }

  @Get('unavailable-error')
  unavailableError(): never {
    throw outage();
  }

  @Get('plain')
  plain(): never {
    throw new Error('not a rate limit');
  }

  @Get('guarded')
  @RateLimit('tier', { key: 'guarded' })
  guarded(): string {
    return 'guarded';
  }
}

/** An application's own catch-all filter: answers every error with its own body. */
@Catch()
@Injectable()
class CatchAllFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    const response = host.switchToHttp().getResponse<unknown>();
    this.adapterHost.httpAdapter.reply(response, { mine: true, status }, status);
  }
}

/** A catch-all that hands this library's exceptions over, as docs/nestjs.md shows. */
@Catch()
class DelegatingFilter extends CatchAllFilter {
  constructor(
    adapterHost: HttpAdapterHost,
    private readonly rateLimits: RateLimitExceptionFilter,
  ) {
    super(adapterHost);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (this.rateLimits.handles(exception)) return this.rateLimits.catch(exception, host);
    super.catch(exception, host);
  }
}

@Controller('own')
@UseFilters(CatchAllFilter)
class OwnFilterController {
  @Get('thrown')
  thrown(): never {
    throw outage();
  }

  @Get('guarded')
  @RateLimit('tier', { key: 'own' })
  guarded(): string {
    return 'guarded';
  }
}

function boot(
  adapter: AdapterName,
  headers: RateLimitHeadersMode = 'legacy',
  extra: { providers?: Provider[]; configure?: (app: INestApplication) => void } = {},
): Promise<TestApp> {
  return createApp(
    adapter,
    {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          headers,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            tier: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
          },
        }),
      ],
      controllers: [ThrowingController, OwnFilterController],
      providers: [TierService, ...(extra.providers ?? [])],
    },
    extra.configure,
  );
}

describe.each(ADAPTERS)('exceptions thrown outside the guard (%s)', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());
  const get = (path: string): request.Test => request(t.url).get(path);

  it('a RateLimitExceededException from a service: 429 with the guard’s headers', async () => {
    t = await boot(adapter);
    await get('/thrown/exception/a').expect(200);
    const res = await get('/thrown/exception/a').expect(429);
    expect(res.headers['retry-after']).toMatch(/^(59|60)$/);
    expect(res.headers['x-ratelimit-limit']).toBe('1');
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000 + 50);
    expect(res.body).toMatchObject({ statusCode: 429, limiter: 'tier' });
    expect(res.body.retryAfter).toBe(Number(res.headers['retry-after']));
  });

  it('a RateLimitExceededError from LimiterService: 429 with the headers, not a 500', async () => {
    t = await boot(adapter);
    await get('/thrown/error/b').expect(200);
    const res = await get('/thrown/error/b').expect(429);
    expect(res.headers['retry-after']).toMatch(/^(59|60)$/);
    expect(res.headers['x-ratelimit-limit']).toBe('1');
    expect(res.body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      limiter: 'tier',
    });
  });

  it.each(['exception', 'error'])(
    'a store outage thrown as the %s: 503 with Retry-After',
    async (kind) => {
      t = await boot(adapter);
      const res = await get(`/thrown/unavailable-${kind}`).expect(503);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: "Rate limiting is unavailable for 'strict'. Retry in 3 seconds.",
        limiter: 'strict',
        retryAfter: 3,
      });
    },
  );

  it.each([
    ['ietf', ['ratelimit', 'ratelimit-policy', 'retry-after'], ['x-ratelimit-limit']],
    ['both', ['ratelimit', 'x-ratelimit-limit', 'retry-after'], []],
    [false, ['retry-after'], ['ratelimit', 'x-ratelimit-limit']],
  ] as const)('headers: %p', async (mode, present, absent) => {
    t = await boot(adapter, mode);
    await get('/thrown/exception/a').expect(200);
    const res = await get('/thrown/exception/a').expect(429);
    for (const name of present) expect(res.headers[name]).toBeDefined();
    for (const name of absent) expect(res.headers[name]).toBeUndefined();
    if (mode !== false) expect(res.headers['ratelimit']).toMatch(/^"tier";r=0;t=(59|60)$/);
  });

  describe('with the application’s own filters', () => {
    const expectGuardHeaders = async (path: string): Promise<request.Response> => {
      await get(path).expect(200);
      const res = await get(path).expect(429);
      expect(res.headers['retry-after']).toMatch(/^(59|60)$/);
      expect(res.headers['x-ratelimit-limit']).toBe('1');
      return res;
    };

    it('a controller’s catch-all answers instead; the guard’s 429 keeps its headers', async () => {
      t = await boot(adapter);
      const thrown = await get('/own/thrown').expect(500);
      expect(thrown.body).toEqual({ mine: true, status: 500 });
      expect(thrown.headers['retry-after']).toBeUndefined();
      const guarded = await expectGuardHeaders('/own/guarded');
      expect(guarded.body).toEqual({ mine: true, status: 429 });
    });

    it('a global catch-all from useGlobalFilters answers instead; the guard’s 429 keeps its headers', async () => {
      t = await boot(adapter, 'legacy', {
        configure: (app) => app.useGlobalFilters(new CatchAllFilter(app.get(HttpAdapterHost))),
      });
      await get('/thrown/exception/a').expect(200);
      const thrown = await get('/thrown/exception/a').expect(429);
      expect(thrown.body).toEqual({ mine: true, status: 429 });
      expect(thrown.headers['retry-after']).toBeUndefined();
      await get('/thrown/unavailable-error').expect(500);
      const guarded = await expectGuardHeaders('/thrown/guarded');
      expect(guarded.body).toEqual({ mine: true, status: 429 });
    });

    it('an APP_FILTER catch-all of the root module: this library’s filter answers its exceptions first', async () => {
      t = await boot(adapter, 'legacy', {
        providers: [{ provide: APP_FILTER, useClass: CatchAllFilter }],
      });
      const res = await get('/thrown/unavailable-error').expect(503);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.body).toMatchObject({ statusCode: 503, limiter: 'strict' });
      expect((await get('/thrown/plain').expect(500)).body).toEqual({ mine: true, status: 500 });
    });

    it('a catch-all that delegates to RateLimitExceptionFilter keeps the headers', async () => {
      t = await boot(adapter, 'legacy', {
        configure: (app) =>
          app.useGlobalFilters(
            new DelegatingFilter(app.get(HttpAdapterHost), app.get(RateLimitExceptionFilter)),
          ),
      });
      await get('/thrown/exception/a').expect(200);
      const res = await get('/thrown/exception/a').expect(429);
      expect(res.headers['retry-after']).toMatch(/^(59|60)$/);
      expect(res.headers['x-ratelimit-limit']).toBe('1');
      expect(res.body).toMatchObject({ statusCode: 429, limiter: 'tier' });
      expect((await get('/thrown/unavailable-error').expect(503)).headers['retry-after']).toBe('3');
      expect((await get('/thrown/plain').expect(500)).body).toEqual({ mine: true, status: 500 });
    });
  });
});

/** Invoked the way Nest invokes RPC and GraphQL handlers (global filters included). */
@Injectable()
class Handlers {
  fail(error: Error): never {
    throw error;
  }
}

describe('exceptions outside HTTP', () => {
  it.each(['rpc', 'graphql'] as const)(
    '%s: the filter leaves them to the transport, unchanged',
    async (type) => {
      const moduleRef = await Test.createTestingModule({
        imports: [RateSyncModule.forRoot({ configFile: false })],
        providers: [Handlers],
      }).compile();
      const app = await moduleRef.init();
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const result = { allowed: false, limit: 1, remaining: 0, resetAt: 0, retryAfterMs: 1 };
        for (const error of [
          new RateLimitExceededError({ ...result, limiterId: 'l', key: 'k' }),
          outage(),
        ]) {
          await expect(invokeAs(app, type, app.get(Handlers), 'fail', [error])).rejects.toBe(error);
        }
      } finally {
        logged.mockRestore();
        await app.close();
      }
    },
  );
});
