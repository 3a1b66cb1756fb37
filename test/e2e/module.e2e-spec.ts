import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  ConfigValidationError,
  InvalidArgumentError,
  LimiterNotFoundError,
  RateSync,
  RateSyncError,
} from '../../lib/core';
import {
  LimiterService,
  RateLimit,
  RateLimitGuard,
  RateSyncModule,
  type RateSyncModuleOptions,
  type RateSyncOptionsFactory,
  type RequestLike,
} from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

const STORES = { mem: { engine: 'memory' as const } };
const oneBy = (limit: number): object => ({
  store: 'mem',
  algorithm: 'sliding_window',
  limit,
  windowSeconds: 60,
});

@Controller()
class PingController {
  @Get('ping')
  @RateLimit('api')
  ping(): string {
    return 'pong';
  }
}

@Injectable()
class UsesLimiter {
  constructor(readonly limiters: LimiterService) {}
}

@Module({ providers: [UsesLimiter], exports: [UsesLimiter] })
class FeatureModule {}

@Injectable()
class OptionsFromClass implements RateSyncOptionsFactory {
  createRateSyncOptions(): RateSyncModuleOptions {
    return { configFile: false, stores: STORES, limiters: { api: oneBy(1) } };
  }
}

describe.each(ADAPTERS)('RateSyncModule (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('forRootAsync with ConfigModule, inject: [ConfigService] and useFactory', async () => {
    t = await createApp(adapter, {
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ API_LIMIT: 2 })] }),
        RateSyncModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            configFile: false,
            stores: STORES,
            limiters: { api: oneBy(config.getOrThrow<number>('API_LIMIT')) },
          }),
        }),
      ],
      controllers: [PingController],
    });
    await request(t.url).get('/ping').expect(200);
    await request(t.url).get('/ping').expect(200);
    await request(t.url).get('/ping').expect(429);
  });

  it('forRootAsync with useClass', async () => {
    t = await createApp(adapter, {
      imports: [RateSyncModule.forRootAsync({ useClass: OptionsFromClass })],
      controllers: [PingController],
    });
    await request(t.url).get('/ping').expect(200);
    await request(t.url).get('/ping').expect(429);
  });

  it('a guard subclass given as the guard option replaces the default guard', async () => {
    @Injectable()
    class ApiKeyGuard extends RateLimitGuard {
      protected override getTracker(request: RequestLike): string {
        return String(request.headers?.['x-api-key'] ?? 'anonymous');
      }
    }
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: STORES,
          limiters: { api: oneBy(1) },
          guard: ApiKeyGuard,
        }),
      ],
      controllers: [PingController],
    });
    await request(t.url).get('/ping').set('x-api-key', 'k1').expect(200);
    await request(t.url).get('/ping').set('x-api-key', 'k1').expect(429);
    await request(t.url).get('/ping').set('x-api-key', 'k2').expect(200);
  });

  it('a guard subclass gets its own dependencies by property injection', async () => {
    @Injectable()
    class TenantGuard extends RateLimitGuard {
      @Inject(ConfigService) private readonly config!: ConfigService;
      protected override getTracker(request: RequestLike): string {
        const header = this.config.getOrThrow<string>('TENANT_HEADER');
        return String(request.headers?.[header] ?? 'anonymous');
      }
    }
    t = await createApp(adapter, {
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => ({ TENANT_HEADER: 'x-tenant' })],
        }),
        RateSyncModule.forRoot({
          configFile: false,
          stores: STORES,
          limiters: { api: oneBy(1) },
          guard: TenantGuard,
        }),
      ],
      controllers: [PingController],
    });
    await request(t.url).get('/ping').set('x-tenant', 'a').expect(200);
    await request(t.url).get('/ping').set('x-tenant', 'a').expect(429);
    await request(t.url).get('/ping').set('x-tenant', 'b').expect(200);
  });
});

describe('RateSyncModule: scope, boot and shutdown', () => {
  const forRoot = (extra: object = {}) =>
    RateSyncModule.forRoot({
      configFile: false,
      stores: STORES,
      limiters: { api: oneBy(1) },
      ...extra,
    });

  it('is global by default: any module can inject LimiterService', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [forRoot(), FeatureModule],
    }).compile();
    expect(moduleRef.get(UsesLimiter).limiters).toBeInstanceOf(LimiterService);
    await moduleRef.close();
  });

  it('isGlobal: true in forRootAsync too', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRootAsync({ useClass: OptionsFromClass, isGlobal: true }),
        FeatureModule,
      ],
    }).compile();
    expect(moduleRef.get(UsesLimiter).limiters).toBeInstanceOf(LimiterService);
    await moduleRef.close();
  });

  it.each([
    ['forRoot', () => forRoot({ isGlobal: false })],
    [
      'forRootAsync',
      () => RateSyncModule.forRootAsync({ useClass: OptionsFromClass, isGlobal: false }),
    ],
  ])('%s with isGlobal: false is visible only to modules that import it', async (_, make) => {
    await expect(
      Test.createTestingModule({ imports: [make(), FeatureModule] }).compile(),
    ).rejects.toThrow(/LimiterService/);
    @Module({ imports: [make()], providers: [UsesLimiter] })
    class Importer {}
    const moduleRef = await Test.createTestingModule({ imports: [Importer] }).compile();
    expect(moduleRef.get(UsesLimiter).limiters).toBeInstanceOf(LimiterService);
    await moduleRef.close();
  });

  it('isGlobal: false, one forRoot imported by a feature module: its controller is limited and its service injects LimiterService', async () => {
    @Controller()
    class FeatureController {
      @Get('ping')
      @RateLimit('api')
      ping(): string {
        return 'pong';
      }
    }
    @Module({
      imports: [forRoot({ isGlobal: false })],
      controllers: [FeatureController],
      providers: [UsesLimiter],
    })
    class LimitedFeature {}
    const t = await createApp('express', { imports: [LimitedFeature] });
    try {
      await request(t.url).get('/ping').expect(200);
      await request(t.url).get('/ping').expect(429);
      const limiters = t.app.get(UsesLimiter).limiters;
      expect(limiters.list().map((l) => l.id)).toEqual(['api']);
      expect((await limiters.state('api', '127.0.0.1')).remaining).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('isGlobal: false, the module object shared through a module of yours: one instance for every importer', async () => {
    @Module({ imports: [forRoot({ isGlobal: false })], exports: [RateSyncModule] })
    class RateLimitsModule {}
    @Module({ imports: [RateLimitsModule], providers: [UsesLimiter], exports: [UsesLimiter] })
    class A {}
    @Injectable()
    class AlsoUsesLimiter {
      constructor(readonly limiters: LimiterService) {}
    }
    @Module({ imports: [RateLimitsModule], providers: [AlsoUsesLimiter] })
    class B {}
    const moduleRef = await Test.createTestingModule({ imports: [A, B] }).compile();
    expect(moduleRef.get(UsesLimiter).limiters).toBe(moduleRef.get(AlsoUsesLimiter).limiters);
    await moduleRef.close();
  });

  it('a feature module may import the bare RateSyncModule class when forRoot is global', async () => {
    @Module({ imports: [RateSyncModule], providers: [UsesLimiter], exports: [UsesLimiter] })
    class ImportsBareClass {}
    const moduleRef = await Test.createTestingModule({
      imports: [forRoot(), ImportsBareClass],
    }).compile();
    expect(moduleRef.get(UsesLimiter).limiters).toBeInstanceOf(LimiterService);
    await moduleRef.close();
  });

  it('the bare RateSyncModule class with no global forRoot fails the boot saying what to import', async () => {
    @Controller()
    class FeatureController {
      @Get('ping')
      @RateLimit('api')
      ping(): string {
        return 'pong';
      }
    }
    @Module({ imports: [RateSyncModule], controllers: [FeatureController] })
    class ImportsBareClass {}
    const err = await Test.createTestingModule({
      imports: [forRoot({ isGlobal: false }), ImportsBareClass],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateSyncError);
    expect((err as Error).message).toMatch(
      /RateSyncModule is imported without forRoot\(\) or forRootAsync\(\).*isGlobal: false/s,
    );
    expect((err as Error).message).toContain('exports: [RateSyncModule]');
  });

  it('fails to boot on an unknown limiter id in a controller, naming it and the known ids', async () => {
    @Controller()
    class Typo {
      @Get()
      @RateLimit(['api', 'nope'])
      handler(): void {}
    }
    const app = await createApp('express', { imports: [forRoot()], controllers: [Typo] }).catch(
      (err: unknown) => err,
    );
    expect(app).toBeInstanceOf(LimiterNotFoundError);
    expect((app as Error).message).toContain(
      "Unknown limiter 'nope' in @RateLimit on Typo.handler",
    );
    expect((app as Error).message).toContain("Known limiters: 'api'");
  });

  it('fails to boot on an unknown limiter id in a provider method', async () => {
    @Injectable()
    class Worker {
      @RateLimit('partner')
      async call(): Promise<void> {}
    }
    await expect(
      createApp('express', { imports: [forRoot()], providers: [Worker] }),
    ).rejects.toThrow(/Unknown limiter 'partner' in @RateLimit on Worker\.call/);
  });

  it('fails to boot on a cost the limiter can never admit, or a request field on a provider method', async () => {
    @Controller()
    class Costly {
      @Get()
      @RateLimit('api', { cost: 5 })
      handler(): void {}
    }
    await expect(
      createApp('express', { imports: [forRoot()], controllers: [Costly] }),
    ).rejects.toThrow(InvalidArgumentError);
    @Injectable()
    class Worker {
      @RateLimit('api', { key: '{ip}' })
      async call(): Promise<void> {}
    }
    await expect(
      createApp('express', { imports: [forRoot()], providers: [Worker] }),
    ).rejects.toThrow(/reads the HTTP request.*Worker\.call/);
  });

  it('rejects bad decorator options with the option name, when decorating', () => {
    expect(() => RateLimit('api', { timeout: -1 })).toThrow(/^timeout: /);
    expect(() => RateLimit('api', { timeout: NaN })).toThrow(/^timeout: /);
    expect(() => RateLimit('api', { cost: 0 })).toThrow(/^cost: /);
    expect(() => RateLimit('api', { cost: 1.5 })).toThrow(/^cost: /);
    expect(() => RateLimit('api', { mode: 'later' as 'wait' })).toThrow(/^mode: /);
    expect(() => RateLimit([], {})).toThrow(/^limiterId: /);
    expect(() => RateLimit(['a', 'a'])).toThrow(/^limiterIds: 'a' is listed twice/);
    expect(() => RateLimit('a', { key: { b: '{ip}' } })).toThrow(/^key\.b: /);
    expect(() => RateLimit('a', { tiemout: 1 } as object)).toThrow(/^tiemout: unknown option/);
    expect(() => RateLimit('a', { key: 'x:{body.email' })).not.toThrow(); // templates: at boot
  });

  it('fails to boot on a malformed key template', async () => {
    @Controller()
    class BadTemplate {
      @Get()
      @RateLimit('api', { key: 'login:{bdy.email}' })
      handler(): void {}
    }
    await expect(
      createApp('express', { imports: [forRoot()], controllers: [BadTemplate] }),
    ).rejects.toThrow(/unknown source 'bdy'/);
  });

  it('reports every configuration problem at once, and unknown module options', async () => {
    const bad = RateSyncModule.forRoot({
      configFile: false,
      stores: STORES,
      limiters: {
        a: { store: 'nowhere', ratePerSecond: 1 },
        b: { store: 'mem', ratePerSecond: -1 },
      },
    });
    const err = await Test.createTestingModule({ imports: [bad] })
      .compile()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect((err as ConfigValidationError).problems.length).toBeGreaterThanOrEqual(2);
    await expect(
      Test.createTestingModule({
        imports: [RateSyncModule.forRoot({ configFile: false, trustedProxy: [] } as object)],
      }).compile(),
    ).rejects.toThrow(/trustedProxy: unknown RateSyncModule option; did you mean `trustedProxies`/);
    await expect(
      Test.createTestingModule({
        imports: [RateSyncModule.forRoot({ configFile: false, headers: 'draft' as 'ietf' })],
      }).compile(),
    ).rejects.toThrow(/^headers: /);
  });

  it('a class-level @RateLimit on a plain provider fails the boot', async () => {
    @Injectable()
    @RateLimit('api')
    class Everything {
      work(): void {}
    }
    await expect(
      createApp('express', { imports: [forRoot()], providers: [Everything] }),
    ).rejects.toBeInstanceOf(RateSyncError);
  });

  it('closes every store at shutdown', async () => {
    const t = await createApp('express', { imports: [forRoot()], controllers: [PingController] });
    const rateSync = t.app.get(RateSync);
    const engine = rateSync.limiter('api').store.engine;
    const close = jest.spyOn(engine, 'close');
    await request(t.url).get('/ping').expect(200);
    await t.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});
