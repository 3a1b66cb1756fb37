import { Controller, Get, Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  LimiterService,
  RateLimit,
  RateSyncModule,
  type RateSyncModuleOptions,
} from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';
import { invokeAs, MessagePattern } from './support/non-http-handlers';

const WINDOW = { store: 'mem', algorithm: 'sliding_window' as const, windowSeconds: 60 };

const header = (ctx: ExecutionContext, name: string): string | undefined =>
  ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name];

/** The user-agent recipe of docs/nestjs.md: bots of this list are never limited. */
const IGNORED_USER_AGENTS = [/googlebot/i, /bingbot/i];
const ignoreUserAgents = (ctx: ExecutionContext): boolean =>
  IGNORED_USER_AGENTS.some((re) => re.test(header(ctx, 'user-agent') ?? ''));

@Controller('skip')
class SkipController {
  @Get('plain')
  @RateLimit('one')
  plain(): string {
    return 'plain';
  }

  @Get('own')
  @RateLimit('one', { skip: (ctx) => header(ctx, 'x-internal') === 'yes' })
  own(): string {
    return 'own';
  }

  @Get('async')
  @RateLimit('one', { skip: async (ctx) => header(ctx, 'x-internal') === 'yes' })
  async(): string {
    return 'async';
  }

  @Get('throws')
  @RateLimit('one', {
    skip: () => {
      throw new Error('boom');
    },
  })
  throws(): string {
    return 'throws';
  }

  @Get('rejects')
  @RateLimit('one', { skip: () => Promise.reject(new Error('async boom')) })
  rejects(): string {
    return 'rejects';
  }
}

/** A default-limited route: the module's skip applies to it too. */
@Controller('default')
class DefaultController {
  @Get()
  index(): string {
    return 'default';
  }
}

@Injectable()
class Flag {
  value = false;
}

function options(extra: Partial<RateSyncModuleOptions> = {}): RateSyncModuleOptions {
  return {
    configFile: false,
    stores: { mem: { engine: 'memory' } },
    limiters: { one: { ...WINDOW, limit: 1 } },
    skip: ignoreUserAgents,
    defaultLimit: { limiters: 'one', include: ['/default'] },
    ...extra,
  };
}

describe.each(ADAPTERS)('skip rules (%s)', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());
  const boot = async (extra?: Partial<RateSyncModuleOptions>): Promise<TestApp> =>
    (t = await createApp(adapter, {
      imports: [RateSyncModule.forRoot(options(extra))],
      controllers: [SkipController, DefaultController],
      providers: [Flag],
    }));

  it("the module's skip (ignored user agents): nothing consumed, no headers", async () => {
    await boot();
    const bot = 'Mozilla/5.0 (compatible; Googlebot/2.1)';
    for (const path of ['/skip/plain', '/default']) {
      for (let i = 0; i < 3; i++) {
        const res = await request(t.url).get(path).set('user-agent', bot).expect(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
        expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
      }
      expect((await t.app.get(LimiterService).state('one', '127.0.0.1')).remaining).toBe(1);
      await request(t.url).get(path).set('user-agent', 'curl/8').expect(200);
      await request(t.url).get(path).set('user-agent', 'curl/8').expect(429);
      await request(t.url).get(path).set('user-agent', bot).expect(200); // still skipped
      await t.app.get(LimiterService).reset('one', '127.0.0.1');
    }
  });

  it("a @RateLimit's own skip, sync or async", async () => {
    await boot();
    for (const path of ['/skip/own', '/skip/async']) {
      for (let i = 0; i < 3; i++) {
        const res = await request(t.url).get(path).set('x-internal', 'yes').expect(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
      await request(t.url).get(path).expect(200);
      await request(t.url).get(path).expect(429);
      await t.app.get(LimiterService).reset('one', '127.0.0.1');
    }
  });

  it('a module skip reading state decides per request', async () => {
    await boot({ skip: (ctx) => header(ctx, 'x-flag') !== undefined && t.app.get(Flag).value });
    t.app.get(Flag).value = true;
    await request(t.url).get('/skip/plain').set('x-flag', '1').expect(200);
    await request(t.url).get('/skip/plain').set('x-flag', '1').expect(200);
    t.app.get(Flag).value = false;
    await request(t.url).get('/skip/plain').set('x-flag', '1').expect(200);
    await request(t.url).get('/skip/plain').set('x-flag', '1').expect(429);
  });

  it('a skip that throws or rejects: limited as usual, never a 500, one warning per route', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await boot();
      for (const path of ['/skip/throws', '/skip/rejects']) {
        const ok = await request(t.url).get(path).expect(200);
        expect(ok.headers['x-ratelimit-limit']).toBe('1');
        await request(t.url).get(path).expect(429);
        await request(t.url).get(path).expect(429);
        await t.app.get(LimiterService).reset('one', '127.0.0.1');
      }
      const warnings = warn.mock.calls.map(([m]) => String(m)).filter((m) => /threw/.test(m));
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain('SkipController.throws');
      expect(warnings[0]).toContain('boom');
      expect(warnings[1]).toContain('SkipController.rejects');
    } finally {
      warn.mockRestore();
    }
  });

  it('rejects a skip that is not a function, naming the option', async () => {
    await expect(boot({ skip: true as never })).rejects.toThrow(/^skip: expected a function/);
    t = { close: async () => undefined } as TestApp;
    expect(() => RateLimit('one', { skip: 'yes' as never })).toThrow(/^skip: expected a function/);
  });
});

/** Non-HTTP handlers go through RateLimitInterceptor: the same skip rules apply there. */
@Injectable()
class MessageHandlers {
  @MessagePattern('plain')
  @RateLimit('one', { key: 'user:{0.user}' })
  plain(data: { user: string }): string {
    return `plain ${data.user}`;
  }

  @MessagePattern('own')
  @RateLimit('one', { key: 'own:{0.user}', skip: (ctx) => ctx.getArgByIndex(0)?.trusted === true })
  own(data: { user: string; trusted?: boolean }): string {
    return `own ${data.user}`;
  }
}

describe('skip rules on non-HTTP handlers (RateLimitInterceptor)', () => {
  it("the module's and the @RateLimit's skip apply; nothing is consumed", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: { one: { ...WINDOW, limit: 1 } },
          nonHttp: true,
          skip: (ctx) => ctx.getArgByIndex(0)?.user === 'admin',
        }),
      ],
      providers: [MessageHandlers],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const handlers = app.get(MessageHandlers);
      const call = (method: string, data: object): Promise<unknown> =>
        invokeAs(app, 'rpc', handlers, method, [data]);
      for (let i = 0; i < 3; i++) {
        await expect(call('plain', { user: 'admin' })).resolves.toBe('plain admin');
        await expect(call('own', { user: 'ann', trusted: true })).resolves.toBe('own ann');
      }
      const limiters = app.get(LimiterService);
      expect((await limiters.state('one', 'user:admin')).remaining).toBe(1);
      expect((await limiters.state('one', 'own:ann')).remaining).toBe(1);
      await expect(call('own', { user: 'ann' })).resolves.toBe('own ann');
      await expect(call('own', { user: 'ann' })).rejects.toThrow();
    } finally {
      await app.close();
    }
  });
});

@Injectable()
class SkippingService {
  @RateLimit('one', { skip: () => true })
  async work(): Promise<string> {
    return 'work';
  }
}

describe('skip on a provider method', () => {
  it('fails the boot, naming the option: a provider method has no request context', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: { one: { ...WINDOW, limit: 1 } },
        }),
      ],
      providers: [SkippingService],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(
      /^skip: skip applies to handlers.*SkippingService\.work/,
    );
    await app.close();
  });
});
