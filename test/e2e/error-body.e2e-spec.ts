import { Controller, Get, Logger } from '@nestjs/common';
import request from 'supertest';
import { StoreUnavailableError } from '../../lib/core';
import {
  LimiterService,
  RateLimit,
  RateSyncModule,
  type RateLimitRefusalInfo,
  type RateSyncModuleOptions,
} from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

const WINDOW = { store: 'mem', algorithm: 'sliding_window' as const, windowSeconds: 60 };

@Controller('body')
class BodyController {
  constructor(private readonly limiters: LimiterService) {}

  @Get('guarded')
  @RateLimit('one')
  guarded(): string {
    return 'guarded';
  }

  @Get('both')
  @RateLimit(['one', 'other'], { key: false })
  both(): string {
    return 'both';
  }

  /** Refused by the core error, thrown from a service: answered by RateLimitExceptionFilter. */
  @Get('thrown')
  thrown(): Promise<string> {
    return this.limiters.run('one', async () => 'ran', { key: 'thrown', timeout: 0 });
  }

  @Get('outage')
  outage(): string {
    throw new StoreUnavailableError('mem', 'one', 2_500);
  }
}

function options(extra: Partial<RateSyncModuleOptions> = {}): RateSyncModuleOptions {
  return {
    configFile: false,
    stores: { mem: { engine: 'memory' } },
    limiters: { one: { ...WINDOW, limit: 1 }, other: { ...WINDOW, limit: 1 } },
    ...extra,
  };
}

describe.each(ADAPTERS)('errorBody and resetHeader (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const boot = async (extra?: Partial<RateSyncModuleOptions>): Promise<TestApp> =>
    (t = await createApp(adapter, {
      imports: [RateSyncModule.forRoot(options(extra))],
      controllers: [BodyController],
    }));
  const twice = async (path: string): Promise<request.Response> => {
    await request(t!.url).get(path).expect(200);
    return request(t!.url).get(path);
  };

  it("'problem': an RFC 9457 document naming the limiter, same headers as 'json'", async () => {
    await boot();
    const json = await twice('/body/guarded');
    await t!.close();
    await boot({ errorBody: 'problem' });
    const res = await twice('/body/guarded');
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: expect.stringMatching(/^Rate limit 'one' exceeded\. Retry in \d+ seconds?\.$/),
      limiters: ['one'],
      retryAfter: expect.any(Number),
    });
    for (const name of ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining']) {
      expect(res.headers[name]).toBe(json.headers[name]);
    }
    expect(res.headers['x-ratelimit-reset']).toMatch(/^\d+$/);
  });

  it("'problem' names every limiter a composite rejected on", async () => {
    await boot({ errorBody: 'problem' });
    const res = await twice('/body/both');
    expect(res.status).toBe(429);
    expect(JSON.parse(res.text).limiters).toEqual(['one', 'other']);
  });

  it("'problem' shapes the filter's answers too: a thrown RateLimitExceededError, a 503", async () => {
    await boot({ errorBody: 'problem' });
    const thrown = await twice('/body/thrown');
    expect(thrown.status).toBe(429);
    expect(thrown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(thrown.text)).toMatchObject({ status: 429, limiters: ['one'] });
    expect(thrown.headers['retry-after']).toBeDefined();
    const outage = await request(t!.url).get('/body/outage').expect(503);
    expect(outage.headers['retry-after']).toBe('3');
    expect(JSON.parse(outage.text)).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: expect.stringContaining("Rate limiting is unavailable for 'one'"),
      limiters: ['one'],
      retryAfter: 3,
    });
  });

  it('a factory builds the body from the refusal and the request; headers unchanged', async () => {
    const seen: RateLimitRefusalInfo[] = [];
    await boot({
      errorBody: (refusal, host) => {
        seen.push(refusal);
        const req = host.switchToHttp().getRequest<{ url: string }>();
        return { error: 'slow down', path: req.url, limiters: refusal.limiterIds };
      },
    });
    const res = await twice('/body/guarded');
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ error: 'slow down', path: '/body/guarded', limiters: ['one'] });
    expect(res.headers['x-ratelimit-limit']).toBe('1');
    expect(res.headers['retry-after']).toBeDefined();
    expect(seen[0]).toMatchObject({ status: 429, result: { allowed: false, limiterId: 'one' } });
    expect(seen[0].defaultBody).toMatchObject({ statusCode: 429, limiter: 'one' });
    const outage = await request(t!.url).get('/body/outage').expect(503);
    expect(outage.body).toEqual({ error: 'slow down', path: '/body/outage', limiters: ['one'] });
    expect(seen[1]).toMatchObject({ status: 503, retryAfter: 3, error: { limiterId: 'one' } });
  });

  it('a factory that throws: the default body, an error logged, never a 500', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      await boot({
        errorBody: () => {
          throw new Error('bad factory');
        },
      });
      const res = await twice('/body/guarded');
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ statusCode: 429, limiter: 'one' });
      expect(error.mock.calls.some(([m]) => String(m).includes('errorBody'))).toBe(true);
    } finally {
      error.mockRestore();
    }
  });

  it("resetHeader 'delay': X-RateLimit-Reset in seconds from now, as @nestjs/throttler", async () => {
    await boot({ resetHeader: 'delay' });
    const res = await twice('/body/guarded');
    const reset = Number(res.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(59);
    expect(reset).toBeLessThanOrEqual(60);
  });

  it.each([
    [{ errorBody: 'xml' }, /^errorBody: expected 'json', 'problem' or a function/],
    [{ resetHeader: 'seconds' }, /^resetHeader: expected 'epoch' or 'delay'/],
  ])('rejects %j, naming the option', async (extra, message) => {
    await expect(boot(extra as Partial<RateSyncModuleOptions>)).rejects.toThrow(message);
  });
});
