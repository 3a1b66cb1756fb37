import { Injectable, SetMetadata, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ManualClock, RateLimitExceededError } from '../../lib/core';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';

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
