import { Body, Controller, Get, Logger, Post } from '@nestjs/common';
import request from 'supertest';
import { LimiterService, RateLimit, RateSyncModule, SkipRateLimit } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

const WINDOW = { store: 'mem', algorithm: 'sliding_window' as const, windowSeconds: 60 };

@Controller('limits')
class LimitsController {
  @Get('two')
  @RateLimit('two')
  two(): { ok: true } {
    return { ok: true };
  }

  @Get('open')
  open(): string {
    return 'open';
  }

  @Post('login')
  @RateLimit('one', { key: 'login:{body.email}' })
  login(@Body() body: { email?: string }): string {
    return `hello ${body.email ?? 'nobody'}`;
  }

  @Get('tenant')
  @RateLimit('one', { key: (ctx) => ctx.switchToHttp().getRequest().headers['x-tenant'] })
  tenant(): string {
    return 'tenant';
  }

  @Get('shared')
  @RateLimit('one', { key: false })
  shared(): string {
    return 'shared';
  }

  @Post('auth')
  @RateLimit(['auth_ip', 'auth_credential'], {
    key: { auth_ip: '{ip}', auth_credential: 'cred:{body.email}' },
  })
  auth(): string {
    return 'auth';
  }
}

@Controller('class')
@RateLimit('one', { key: 'class:{params.id}' })
class ClassLimitedController {
  @Get(':id')
  item(): string {
    return 'item';
  }

  @Get(':id/free')
  @SkipRateLimit()
  free(): string {
    return 'free';
  }

  @Get(':id/own')
  @RateLimit('two', { key: 'own:{query.q}' })
  own(): string {
    return 'own';
  }
}

function limiters(): Record<string, object> {
  return {
    one: { ...WINDOW, limit: 1 },
    two: { ...WINDOW, limit: 2 },
    auth_ip: { ...WINDOW, limit: 3 },
    auth_credential: { ...WINDOW, limit: 1 },
  };
}

describe.each(ADAPTERS)('@RateLimit on HTTP routes (%s)', (adapter) => {
  let t: TestApp;
  const get = (path: string): request.Test => request(t.url).get(path);

  beforeEach(async () => {
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: limiters(),
        }),
      ],
      controllers: [LimitsController, ClassLimitedController],
    });
  });
  afterEach(() => t.close());

  it('answers 429 with the headers and a JSON body naming the limiter and the delay', async () => {
    await get('/limits/two').expect(200);
    await get('/limits/two').expect(200);
    const res = await get('/limits/two').expect(429);
    expect(res.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Rate limit 'two' exceeded\. Retry in \d+ seconds?\.$/),
      limiter: 'two',
      retryAfter: expect.any(Number),
      retryAfterMs: expect.any(Number),
    });
    expect(res.body.retryAfter).toBeGreaterThanOrEqual(59);
    expect(res.body.retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers['retry-after']).toBe(String(res.body.retryAfter));
    expect(res.headers['x-ratelimit-limit']).toBe('2');
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    const reset = Number(res.headers['x-ratelimit-reset']);
    const nowSeconds = Date.now() / 1000;
    expect(reset).toBeGreaterThan(nowSeconds + 50);
    expect(reset).toBeLessThanOrEqual(Math.ceil(nowSeconds + 61));
  });

  it('sets X-RateLimit-* on allowed responses, and nothing on unlimited routes', async () => {
    const first = await get('/limits/two').expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['x-ratelimit-remaining']).toBe('1');
    expect(first.headers['x-ratelimit-reset']).toMatch(/^\d+$/);
    expect(first.headers['retry-after']).toBeUndefined();
    const open = await get('/limits/open').expect(200);
    expect(open.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('applies a class-level @RateLimit to every handler, per key', async () => {
    await get('/class/a').expect(200);
    await get('/class/a').expect(429);
    await get('/class/b').expect(200);
  });

  it('lets @SkipRateLimit() handlers through and a handler-level @RateLimit win', async () => {
    await get('/class/a').expect(200);
    for (let i = 0; i < 3; i++) await get('/class/a/free').expect(200);
    await get('/class/a/own?q=x').expect(200);
    await get('/class/a/own?q=x').expect(200);
    await get('/class/a/own?q=x').expect(429);
  });

  it('keys by a body field: another email has its own bucket', async () => {
    const login = (email: string): request.Test =>
      request(t.url).post('/limits/login').send({ email });
    await login('a@example.com').expect(201);
    await login('a@example.com').expect(429);
    await login('b@example.com').expect(201);
    expect((await t.app.get(LimiterService).state('one', 'login:a@example.com')).remaining).toBe(0);
  });

  it('counts requests missing a template field under "-", warning once per route', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await request(t.url).post('/limits/login').send({}).expect(201);
      const res = await request(t.url).post('/limits/login').send({ email: 42.5 }).expect(201);
      expect(res.text).toBe('hello 42.5');
      await request(t.url)
        .post('/limits/login')
        .send({ email: { $ne: '' } })
        .expect(429);
      const warnings = warn.mock.calls.filter(([m]) =>
        String(m).includes('LimitsController.login'),
      );
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0][0])).toContain('{body.email}');
      expect(String(warnings[0][0])).toContain("'-'");
      expect((await t.app.get(LimiterService).state('one', 'login:-')).remaining).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });

  it('keys by a key function', async () => {
    await get('/limits/tenant').set('x-tenant', 'acme').expect(200);
    await get('/limits/tenant').set('x-tenant', 'acme').expect(429);
    await get('/limits/tenant').set('x-tenant', 'globex').expect(200);
  });

  it('key: false shares one bucket between all callers', async () => {
    await get('/limits/shared').expect(200);
    await get('/limits/shared').set('x-forwarded-for', '9.9.9.9').expect(429);
    expect((await t.app.get(LimiterService).state('one')).remaining).toBe(0);
  });

  it('a composite limit is all-or-nothing and names the blocking layer', async () => {
    const auth = (email: string): request.Test =>
      request(t.url).post('/limits/auth').send({ email });
    const service = t.app.get(LimiterService);
    await auth('a@x.io').expect(201);
    const rejected = await auth('a@x.io').expect(429);
    expect(rejected.body.limiter).toBe('auth_credential');
    // The rejected attempt consumed nothing on the IP layer: 3 - 1 = 2 left.
    expect((await service.state('auth_ip', '127.0.0.1')).remaining).toBe(2);
    await auth('b@x.io').expect(201);
    await auth('c@x.io').expect(201);
    const ipBlocked = await auth('d@x.io').expect(429);
    expect(ipBlocked.body.limiter).toBe('auth_ip');
    expect((await service.state('auth_credential', 'cred:d@x.io')).remaining).toBe(1);
  });
});

describe.each(ADAPTERS)('header modes (%s)', (adapter) => {
  it.each([
    ['ietf', false, true],
    ['both', true, true],
    [false, false, false],
  ] as const)('headers: %s', async (headers, legacy, ietf) => {
    const t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          headers,
          stores: { mem: { engine: 'memory' } },
          limiters: limiters(),
        }),
      ],
      controllers: [LimitsController],
    });
    try {
      await request(t.url).get('/limits/two').expect(200);
      const res = await request(t.url).get('/limits/two').expect(200);
      expect(res.headers['x-ratelimit-limit'] !== undefined).toBe(legacy);
      if (ietf) {
        expect(res.headers['ratelimit-policy']).toBe('"two";q=2;w=60');
        expect(res.headers['ratelimit']).toMatch(/^"two";r=0;t=(59|60)$/);
      } else {
        expect(res.headers['ratelimit']).toBeUndefined();
      }
      const rejected = await request(t.url).get('/limits/two').expect(429);
      expect(rejected.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      await t.close();
    }
  });
});
