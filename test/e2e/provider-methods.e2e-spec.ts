import { Injectable, SetMetadata, type INestApplicationContext, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, of } from 'rxjs';
import { ManualClock, RateLimitExceededError, RateSyncError } from '../../lib/core';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { settle, watchUnhandledRejections } from './support/unhandled-rejections';

const MARK = 'test:mark';

@Injectable()
class PartnerClient {
  readonly calls: { tenant: string; at: number }[] = [];
  constructor(readonly clock: ManualClock) {}

  @RateLimit('partner')
  @SetMetadata(MARK, 'kept')
  async quote(symbol: string): Promise<string> {
    this.calls.push({ tenant: symbol, at: this.clock.now() });
    return `quote:${symbol}`;
  }

  @RateLimit('partner', { mode: 'try' })
  async probe(): Promise<string> {
    return 'probed';
  }

  @RateLimit('per_tenant', { key: '{1.tenantId}', mode: 'try' })
  async report(_name: string, scope: { tenantId: string }): Promise<string> {
    return this.ownName(scope.tenantId);
  }

  @RateLimit('per_tenant', { key: (ctx) => `fn:${ctx.getArgByIndex<string>(0)}`, mode: 'try' })
  async byFunction(user: string): Promise<string> {
    return user;
  }

  @RateLimit(['partner', 'per_tenant'], { key: { per_tenant: '{0}' }, timeout: 0 })
  async both(tenant: string): Promise<string> {
    return tenant;
  }

  @RateLimit(['partner', 'jobs'])
  async patient(): Promise<number> {
    return this.clock.now();
  }

  @RateLimit('jobs', { mode: 'try' })
  async job(fail: boolean): Promise<string> {
    if (fail) throw new Error('job failed');
    return 'job done';
  }

  private ownName(tenant: string): string {
    return `${this.constructor.name}:${tenant}`;
  }
}

describe('@RateLimit on provider methods', () => {
  let clock: ManualClock;
  let app: INestApplicationContext;
  let client: PartnerClient;

  beforeEach(async () => {
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          clock,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            partner: { store: 'mem', ratePerSecond: 2 },
            per_tenant: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
            jobs: { store: 'mem', maxConcurrent: 1 },
          },
        }),
      ],
      providers: [PartnerClient, { provide: ManualClock, useValue: clock }],
    }).compile();
    app = await moduleRef.init();
    client = app.get(PartnerClient);
  });
  afterEach(() => app.close());

  it("mode 'wait' (default) spaces calls at the limiter's rate instead of rejecting them", async () => {
    const start = clock.now();
    const results = Promise.all([client.quote('A'), client.quote('B'), client.quote('C')]);
    await clock.advance(0);
    expect(client.calls.map((c) => c.tenant)).toEqual(['A']);
    await clock.advance(500);
    await clock.advance(500);
    expect(await results).toEqual(['quote:A', 'quote:B', 'quote:C']);
    expect(client.calls.map((c) => c.at - start)).toEqual([0, 500, 1000]);
  });

  it("mode 'try' throws RateLimitExceededError carrying the result", async () => {
    await expect(client.probe()).resolves.toBe('probed');
    const err = await client.probe().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitExceededError);
    expect((err as RateLimitExceededError).result).toMatchObject({
      allowed: false,
      limiterId: 'partner',
      retryAfterMs: 500,
    });
    await clock.advance(500);
    await expect(client.probe()).resolves.toBe('probed');
  });

  it('keys by argument templates and key functions, keeping `this`', async () => {
    await expect(client.report('r', { tenantId: 't1' })).resolves.toBe('PartnerClient:t1');
    await expect(client.report('r', { tenantId: 't1' })).rejects.toBeInstanceOf(
      RateLimitExceededError,
    );
    await expect(client.report('r', { tenantId: 't2' })).resolves.toBe('PartnerClient:t2');
    await expect(client.byFunction('u1')).resolves.toBe('u1');
    await expect(client.byFunction('u1')).rejects.toBeInstanceOf(RateLimitExceededError);
    const limiters = app.get(LimiterService);
    expect((await limiters.state('per_tenant', 't1')).remaining).toBe(0);
    expect((await limiters.state('per_tenant', 'fn:u1')).remaining).toBe(0);
  });

  it('composite on a method: all-or-nothing', async () => {
    await expect(client.both('t9')).resolves.toBe('t9');
    await clock.advance(1000);
    await expect(client.both('t9')).rejects.toBeInstanceOf(RateLimitExceededError); // per_tenant
    await expect(client.probe()).resolves.toBe('probed'); // partner was not charged
  });

  it('a composite in wait mode with no timeout waits as long as it takes', async () => {
    const start = clock.now();
    const both = Promise.all([client.patient(), client.patient()]);
    await clock.advance(499);
    await clock.advance(1);
    expect((await both).map((at) => at - start)).toEqual([0, 500]);
  });

  it('releases the concurrency slot when the method resolves or throws', async () => {
    await expect(client.job(true)).rejects.toThrow('job failed');
    await expect(client.job(false)).resolves.toBe('job done');
    expect(app.get(LimiterService).metrics('jobs')).toMatchObject({ released: 2, inFlight: 0 });
  });

  it('keeps the method name and metadata, and wraps the instance, not the prototype', () => {
    expect(client.quote.name).toBe('quote');
    expect(Reflect.getMetadata(MARK, client.quote)).toBe('kept');
    expect(Object.prototype.hasOwnProperty.call(client, 'quote')).toBe(true);
    expect(PartnerClient.prototype.quote).not.toBe(client.quote);
  });
});

// Declarations a limited method cannot honour: it returns a Promise whatever it declares.
@Injectable()
class Calculator {
  @RateLimit('calc', { mode: 'try' })
  add(a: number, b: number): number {
    return a + b;
  }
}

@Injectable()
class Notifier {
  @RateLimit('calc', { timeout: 0 }) // mode 'wait'
  notify(_message: string): void {}
}

@Injectable()
class Ticker {
  @RateLimit('calc', { mode: 'try' })
  ticks(): Observable<number> {
    return of(1, 2);
  }
}

@Injectable()
class Untyped {
  // No return type and not async: the compiler records `undefined`, as for `void`.
  @RateLimit('calc', { mode: 'try' })
  fetch() {
    return Promise.resolve('fetched');
  }
}

// Plain JavaScript: decorators applied by hand, so no design:* metadata at all.
class PlainSync {
  add(a: number, b: number): number {
    return a + b;
  }
}
class PlainAsync {
  async add(a: number, b: number): Promise<number> {
    return a + b;
  }
}
for (const cls of [PlainSync, PlainAsync]) {
  const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, 'add')!;
  RateLimit('calc', { mode: 'try' })(cls.prototype, 'add', descriptor);
}

// Accepted: declared to return a Promise without being async.
@Injectable()
class PromiseDeclared {
  @RateLimit('calc', { mode: 'try' })
  add(a: number, b: number): Promise<number> {
    return Promise.resolve(a + b);
  }
}

const REFUSED: { cls: Type; name: string; why: string }[] = [
  { cls: Calculator, name: 'add', why: 'declared to return Number' },
  { cls: Notifier, name: 'notify', why: 'declared to return void' },
  { cls: Ticker, name: 'ticks', why: 'declared to return Observable' },
  { cls: Untyped, name: 'fetch', why: 'declared to return void' },
  { cls: PlainSync, name: 'add', why: 'not async and has no return type metadata' },
];

function bootWith(provider: Type): Promise<INestApplicationContext> {
  return Test.createTestingModule({
    imports: [
      RateSyncModule.forRoot({
        configFile: false,
        stores: { mem: { engine: 'memory' } },
        limiters: {
          calc: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
        },
      }),
    ],
    providers: [provider],
  })
    .compile()
    .then((moduleRef) => moduleRef.init());
}

describe('@RateLimit on provider methods: the declared return type', () => {
  it.each(REFUSED)(
    'refuses to boot with $cls.name $name() ($why), naming it and the fix',
    async ({ cls, name, why }) => {
      const err = await bootWith(cls).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateSyncError);
      const message = (err as Error).message;
      expect(message).toContain(`@RateLimit on ${cls.name}.${name}: `);
      expect(message).toContain(why);
      expect(message).toContain('Declare it async (returning Promise<T>) and await its calls.');
    },
  );

  it('boots async methods and methods declared to return a Promise, with or without metadata', async () => {
    for (const cls of [PromiseDeclared, PlainAsync]) {
      const app = await bootWith(cls);
      const calc = app.get<{ add(a: number, b: number): Promise<number> }>(cls);
      await expect(calc.add(1, 2)).resolves.toBe(3);
      await expect(calc.add(1, 2)).rejects.toBeInstanceOf(RateLimitExceededError);
      await app.close();
    }
  });

  it('leaves no unhandled rejection on any path', async () => {
    const watch = watchUnhandledRejections();
    try {
      // Callers of a method declared synchronous (or void, or Observable) never await it.
      for (const { cls, name } of REFUSED) {
        const app = await bootWith(cls).catch(() => undefined);
        if (!app) continue;
        const instance = app.get<Record<string, (...args: unknown[]) => unknown>>(cls);
        instance[name](1, 2);
        instance[name](1, 2);
        await settle();
        await app.close();
      }
      // Accepted methods: admitted, refused, and the method's own error, each awaited.
      const app = await bootWith(PromiseDeclared);
      const calc = app.get(PromiseDeclared);
      await calc.add(1, 2);
      await calc.add(1, 2).catch(() => undefined);
      await settle();
      await app.close();
      expect(watch.reasons).toEqual([]);
    } finally {
      watch.stop();
    }
  });
});
