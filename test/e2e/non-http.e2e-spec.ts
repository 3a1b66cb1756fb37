import {
  HttpException,
  Injectable,
  type CallHandler,
  type INestApplicationContext,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Test } from '@nestjs/testing';
import { lastValueFrom, of, Subject, throwError } from 'rxjs';
import { RateSync } from '../../lib/core';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import {
  LimiterService,
  RATE_SYNC_SETTINGS,
  RateLimit,
  RateLimitGuard,
  RateLimitInterceptor,
  RateLimitRegistry,
  RateSyncModule,
} from '../../lib/nest';
import { MessagePattern, Query } from './support/non-http-handlers';

/** Registered as a provider, so the boot check sees non-HTTP handlers: `nonHttp` is needed. */
@Injectable()
class EventsHandlers {
  @MessagePattern('event')
  @RateLimit('per_user', { key: 'user:{0.userId}' })
  onEvent(_data: { userId: string }): void {}

  @Query()
  @RateLimit('per_user')
  query(): void {}

  @MessagePattern('upload')
  @RateLimit('slot')
  upload(): void {}

  /** A job that failed is not counted. */
  @MessagePattern('job')
  @RateLimit('per_user', { key: 'job:{0.userId}', refundWhen: ({ error }) => error !== undefined })
  job(_data: { userId: string }): void {}
}

function contextOf(
  type: string,
  handler: keyof EventsHandlers,
  args: unknown[],
): ExecutionContextHost {
  const ctx = new ExecutionContextHost(args, EventsHandlers, EventsHandlers.prototype[handler]);
  ctx.setType(type);
  return ctx;
}

describe('GraphQL, WebSocket and microservice handlers', () => {
  let app: INestApplicationContext;
  let interceptor: RateLimitInterceptor;
  let limiters: LimiterService;
  const done: CallHandler = { handle: () => new Subject<never>().asObservable() };

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            per_user: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
            slot: { store: 'mem', maxConcurrent: 1 },
          },
          nonHttp: true,
        }),
      ],
      providers: [EventsHandlers],
    }).compile();
    app = await moduleRef.init();
    interceptor = new RateLimitInterceptor(app.get(RateLimitRegistry), app.get(RATE_SYNC_SETTINGS));
    limiters = app.get(LimiterService);
  });
  afterEach(() => app.close());

  it('the guard lets non-HTTP contexts through without touching them', async () => {
    const guard = new RateLimitGuard(
      app.get(RateLimitRegistry),
      app.get(RateSync),
      app.get(RATE_SYNC_SETTINGS),
      app.get(HttpAdapterHost),
    );
    const ctx = contextOf('rpc', 'onEvent', [{ userId: 'u1' }, {}]);
    expect(await guard.canActivate(ctx)).toBe(true);
    expect(await guard.canActivate(ctx)).toBe(true);
    expect(limiters.metrics('per_user').attempts).toBe(0);
  });

  it.each(['rpc', 'ws'])(
    "%s: keyed by argument templates; rejection is the transport's exception",
    async (type) => {
      const run = (userId: string): Promise<string> =>
        lastValueFrom(
          interceptor.intercept(contextOf(type, 'onEvent', [{ userId }, {}]), {
            handle: () => of('handled'),
          }),
        ) as Promise<string>;
      await expect(run('u1')).resolves.toBe('handled');
      const err = await run('u1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type === 'rpc' ? RpcException : WsException);
      expect((err as RpcException).getError()).toMatchObject({
        code: 'RATE_LIMITED',
        limiter: 'per_user',
      });
      expect(err).not.toBeInstanceOf(HttpException);
      await expect(run('u2')).resolves.toBe('handled');
      expect((await limiters.state('per_user', 'user:u1')).remaining).toBe(0);
    },
  );

  it('graphql: the default key is the client IP of the request in the GraphQL context', async () => {
    const req = { headers: {}, socket: { remoteAddress: '::ffff:192.0.2.10' } };
    const handler = { handle: () => new Subject<string>().asObservable() };
    const result = new Subject<string>();
    interceptor
      .intercept(contextOf('graphql', 'query', [{}, {}, { req }, {}]), {
        handle: () => result.asObservable(),
      })
      .subscribe();
    await expect(
      lastValueFrom(
        interceptor.intercept(contextOf('graphql', 'query', [{}, {}, { req }, {}]), handler),
      ),
    ).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', limiter: 'per_user' } });
    expect((await limiters.state('per_user', '192.0.2.10')).remaining).toBe(0);
    result.complete();
  });

  it('refundWhen: a handler that errors is refunded, one that completes is counted', async () => {
    const run = (fails: boolean): Promise<unknown> =>
      lastValueFrom(
        interceptor.intercept(contextOf('rpc', 'job', [{ userId: 'u1' }, {}]), {
          handle: () => (fails ? throwError(() => new Error('job failed')) : of('done')),
        }),
      );
    const remaining = async (): Promise<number> =>
      (await limiters.state('per_user', 'job:u1')).remaining;
    await expect(run(true)).rejects.toThrow('job failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await remaining()).toBe(1);
    await expect(run(false)).resolves.toBe('done');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await remaining()).toBe(0);
    await expect(run(false)).rejects.toBeInstanceOf(RpcException);
  });

  it('holds a concurrency slot until the handler completes, errors or is unsubscribed', async () => {
    const inFlight = async (): Promise<number | undefined> =>
      (await limiters.state('slot')).inFlight;
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    for (const end of ['complete', 'error', 'unsubscribe'] as const) {
      const body = new Subject<string>();
      const sub = interceptor
        .intercept(contextOf('rpc', 'upload', [{}]), { handle: () => body.asObservable() })
        .subscribe({ error: () => undefined });
      await settle();
      expect(await inFlight()).toBe(1);
      const second = interceptor.intercept(contextOf('rpc', 'upload', [{}]), done);
      await expect(lastValueFrom(second)).rejects.toBeInstanceOf(RpcException);
      if (end === 'complete') body.complete();
      else if (end === 'error') body.error(new Error('handler failed'));
      else sub.unsubscribe();
      await settle();
      expect(await inFlight()).toBe(0);
    }
    expect(limiters.metrics('slot').released).toBe(3);
  });
});
