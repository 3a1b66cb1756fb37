import {
  Controller,
  Get,
  Injectable,
  UseInterceptors,
  type INestApplicationContext,
  type ModuleMetadata,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateSyncError } from '../../lib/core';
import { RateLimit, RateLimitInterceptor, RateSyncModule, SkipRateLimit } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';
import { invokeAs, MessagePattern, SubscribeMessage } from './support/non-http-handlers';
import { oneAMinute, PingController } from './support/ping-app';

const options = oneAMinute;

@Injectable()
class OrderHandlers {
  @MessagePattern('order.created')
  @RateLimit('one', { key: 'user:{0.userId}' })
  onCreated(_order: { userId: string }): string {
    return 'handled';
  }
}

@Injectable()
@RateLimit('one')
class ChatGateway {
  @SubscribeMessage('join')
  join(): string {
    return 'joined';
  }

  @SubscribeMessage('leave')
  @SkipRateLimit()
  leave(): string {
    return 'left';
  }
}

/** A hybrid controller: an HTTP route (the guard's) and a message handler (an interceptor's). */
@Controller()
@RateLimit('one')
class HybridController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }

  @MessagePattern('ping')
  onPing(): string {
    return 'pong';
  }
}

@Injectable()
@UseInterceptors(RateLimitInterceptor)
class BoundOnClass {
  @MessagePattern('a')
  @RateLimit('one', { key: 'a' })
  onA(): string {
    return 'a';
  }
}

/** A subclass, as an application would write to override `getRequest`. */
@Injectable()
class GatewayRateLimitInterceptor extends RateLimitInterceptor {}

@Injectable()
class BoundOnHandler {
  @MessagePattern('b')
  @UseInterceptors(GatewayRateLimitInterceptor)
  @RateLimit('one', { key: 'b' })
  onB(): string {
    return 'b';
  }
}

/** Compiles and initialises an application context; closes it if the boot fails. */
async function boot(metadata: ModuleMetadata): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  try {
    return await moduleRef.init();
  } catch (err) {
    await moduleRef.close();
    throw err;
  }
}

const bootError = (metadata: ModuleMetadata): Promise<unknown> =>
  boot(metadata).then(
    async (app) => {
      await app.close();
      throw new Error('the boot did not fail');
    },
    (err: unknown) => err,
  );

/** What an `RpcException` from a rejection carries. */
const RPC_RATE_LIMITED = { error: { status: 'error', code: 'RATE_LIMITED' } };

describe('the nonHttp option', () => {
  let app: INestApplicationContext | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('off (the default): a @RateLimit on a non-HTTP handler fails the boot, naming it and the fix', async () => {
    const err = await bootError({
      imports: [RateSyncModule.forRoot(options())],
      providers: [OrderHandlers],
    });
    expect(err).toBeInstanceOf(RateSyncError);
    expect((err as Error).message).toMatch(
      /^@RateLimit on OrderHandlers\.onCreated: a handler that is not an HTTP route/,
    );
    expect((err as Error).message).toContain('RateSyncModule.forRoot({ nonHttp: true })');
    expect((err as Error).message).toContain('@UseInterceptors(RateLimitInterceptor)');
  });

  it('off: a class-level @RateLimit counts; every limited non-HTTP handler is named, routes and skipped ones are not', async () => {
    const err = await bootError({
      imports: [RateSyncModule.forRoot(options())],
      controllers: [HybridController],
      providers: [ChatGateway],
    });
    expect((err as Error).message).toMatch(
      /^@RateLimit on HybridController\.onPing, ChatGateway\.join: a handler that is not/,
    );
  });

  it.each([
    ['forRoot', () => RateSyncModule.forRoot(options({ nonHttp: true }))],
    [
      'forRootAsync',
      () => RateSyncModule.forRootAsync({ useFactory: () => options({ nonHttp: true }) }),
    ],
  ])(
    'on (%s): the global RateLimitInterceptor limits non-HTTP handlers in Nest',
    async (_, make) => {
      app = await boot({
        imports: [make()],
        controllers: [HybridController],
        providers: [OrderHandlers],
      });
      const handlers = app.get(OrderHandlers);
      const call = (userId: string): Promise<unknown> =>
        invokeAs(app!, 'rpc', handlers, 'onCreated', [{ userId }, {}]);
      await expect(call('u1')).resolves.toBe('handled');
      await expect(call('u1')).rejects.toMatchObject(RPC_RATE_LIMITED);
      await expect(call('u2')).resolves.toBe('handled');
    },
  );

  it('off: @UseInterceptors(RateLimitInterceptor or a subclass) on the class or the handler limits it instead', async () => {
    app = await boot({
      imports: [RateSyncModule.forRoot(options())],
      providers: [BoundOnClass, BoundOnHandler],
    });
    for (const [cls, method] of [
      [BoundOnClass, 'onA'],
      [BoundOnHandler, 'onB'],
    ] as const) {
      const call = (): Promise<unknown> => invokeAs(app!, 'ws', app!.get(cls), method, [{}, {}]);
      await expect(call()).resolves.toBe(method.slice(2).toLowerCase());
      await expect(call()).rejects.toMatchObject(RPC_RATE_LIMITED);
    }
  });

  it('on, with @UseInterceptors(RateLimitInterceptor) too: fails the boot (it would count twice)', async () => {
    const err = await bootError({
      imports: [RateSyncModule.forRoot(options({ nonHttp: true }))],
      providers: [BoundOnClass],
    });
    expect((err as Error).message).toMatch(
      /^@RateLimit on BoundOnClass\.onA would count every call twice/,
    );
  });

  it('is validated with the other options', async () => {
    await expect(
      Test.createTestingModule({
        imports: [RateSyncModule.forRoot(options({ nonHttp: 'yes' as unknown as boolean }))],
      }).compile(),
    ).rejects.toThrow(/^nonHttp: expected a boolean, got string/);
    await expect(
      Test.createTestingModule({
        imports: [RateSyncModule.forRoot({ ...options(), nonHtp: true } as object)],
      }).compile(),
    ).rejects.toThrow(/^nonHtp: unknown RateSyncModule option; did you mean `nonHttp`/);
  });
});

describe.each(ADAPTERS)('HTTP requests and the nonHttp option (%s)', (adapter) => {
  let t: TestApp | undefined;
  let intercept: jest.SpyInstance;
  beforeEach(() => {
    intercept = jest.spyOn(RateLimitInterceptor.prototype, 'intercept');
  });
  afterEach(async () => {
    intercept.mockRestore();
    await t?.close();
    t = undefined;
  });

  it('off: no RateLimitInterceptor in the pipeline of HTTP requests; the guard still limits', async () => {
    t = await createApp(adapter, {
      imports: [RateSyncModule.forRoot(options())],
      controllers: [PingController],
    });
    await request(t.url).get('/ping').expect(200);
    await request(t.url).get('/ping').expect(429);
    expect(intercept).not.toHaveBeenCalled();
  });

  it('on: the global RateLimitInterceptor sees every HTTP request it lets through', async () => {
    t = await createApp(adapter, {
      imports: [RateSyncModule.forRoot(options({ nonHttp: true }))],
      controllers: [PingController],
    });
    await request(t.url).get('/ping').expect(200);
    await request(t.url).get('/ping').expect(429);
    expect(intercept).toHaveBeenCalledTimes(1);
  });
});
