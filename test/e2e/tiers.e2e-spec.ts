import {
  Controller,
  Get,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { LimiterService, RateLimit, RateLimitExceededException, RateSyncModule } from '../../lib';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

interface User {
  id: string;
  plan: string;
}
type Req = { headers: Record<string, string>; user?: User };

/** A stand-in for an authentication guard: the user and its plan from headers. */
@Injectable()
class FakeAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Req>();
    req.user = { id: req.headers['x-user'], plan: req.headers['x-plan'] };
    return true;
  }
}

const userOf = (ctx: ExecutionContext): User => ctx.switchToHttp().getRequest<Req>().user!;

/** A plan looked up asynchronously (a database in a real application). */
const lookUpPlan = (ctx: ExecutionContext): Promise<string> =>
  new Promise((resolve) => setImmediate(() => resolve(userOf(ctx).plan)));

/** Contract quotas, as a database would hold them: requests per minute per customer. */
const contracts = new Map<string, number>();

@Controller()
class ApiController {
  @Get('sync')
  @RateLimit(
    { among: ['api_free', 'api_pro'], pick: (ctx) => userOf(ctx).plan },
    { key: '{user.id}' },
  )
  sync(): string {
    return 'ok';
  }

  @Get('async')
  @RateLimit({ among: ['api_free', 'api_pro'], pick: lookUpPlan }, { key: '{user.id}' })
  async(): string {
    return 'ok';
  }

  @Get('throws')
  @RateLimit(
    {
      among: ['api_free', 'api_pro'],
      pick: () => {
        throw new Error('plan service down');
      },
    },
    { key: '{user.id}' },
  )
  throws(): string {
    return 'ok';
  }

  /** The contract-quota pattern: a customer's own rate, through the bounded getOrClone. */
  @Get('contract')
  async contract(): Promise<string> {
    return 'ok';
  }
}

/** The contract-quota guard of docs/patterns.md, reduced to the test's needs. */
@Injectable()
class ContractQuotaGuard implements CanActivate {
  constructor(private readonly limiters: LimiterService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Req & { url: string }>();
    if (!req.url.startsWith('/contract')) return true;
    const customer = req.headers['x-user'];
    const limit = contracts.get(customer);
    const limiter = await this.limiters.getOrClone(
      'contract',
      customer,
      limit === undefined ? {} : { limit },
    );
    const permit = await this.limiters.tryAcquire(limiter.id);
    if (!permit) {
      throw new RateLimitExceededException(
        await this.limiters.check(limiter.id, { consume: false }),
      );
    }
    return true;
  }
}

const window = (limit: number) =>
  ({ store: 'mem', algorithm: 'sliding_window', limit, windowSeconds: 60 }) as const;

describe.each(ADAPTERS)('tiers and contract quotas (%s)', (adapter) => {
  let t: TestApp;
  let warn: jest.SpyInstance;
  beforeEach(async () => {
    contracts.clear();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: { api_free: window(1), api_pro: window(3), contract: window(1) },
        }),
      ],
      controllers: [ApiController],
      providers: [
        { provide: APP_GUARD, useClass: FakeAuthGuard },
        { provide: APP_GUARD, useClass: ContractQuotaGuard },
      ],
    });
  });
  afterEach(async () => {
    await t.close();
    warn.mockRestore();
  });

  const hit = (path: string, user: string, plan: string) =>
    request(t.url).get(path).set('x-user', user).set('x-plan', plan);

  it.each(['/sync', '/async'])('%s: two users on different plans, one route', async (path) => {
    const free = await hit(path, 'alice', 'api_free').expect(200);
    expect(free.headers['x-ratelimit-limit']).toBe('1');
    await hit(path, 'alice', 'api_free').expect(429);
    for (let i = 0; i < 3; i++) {
      const pro = await hit(path, 'bob', 'api_pro').expect(200);
      expect(pro.headers['x-ratelimit-limit']).toBe('3');
    }
    const rejected = await hit(path, 'bob', 'api_pro').expect(429);
    expect(rejected.body).toMatchObject({ limiter: 'api_pro' });
    expect(warn).not.toHaveBeenCalled();
  });

  it('counts a plan that is not a candidate under the first one, warning once per route', async () => {
    const first = await hit('/sync', 'carol', 'api_enterprise').expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('1');
    await hit('/sync', 'carol', 'api_enterprise').expect(429);
    await hit('/sync', 'dave', 'gold').expect(200);
    const warnings = warn.mock.calls.map(([m]) => String(m)).filter((m) => /pick/.test(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /ApiController\.sync: pick returned "api_enterprise", not one of api_free, api_pro; counted under 'api_free'/,
    );
  });

  it('a pick that throws never answers 500: the first candidate counts the request', async () => {
    await hit('/throws', 'erin', 'api_pro').expect(200);
    await hit('/throws', 'erin', 'api_pro').expect(429);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/pick threw Error: plan service down/);
  });

  it("contract quotas: each customer's own rate through getOrClone, updated at run time", async () => {
    contracts.set('acme', 2);
    await hit('/contract', 'acme', '').expect(200);
    await hit('/contract', 'acme', '').expect(200);
    const acme = await hit('/contract', 'acme', '').expect(429);
    expect(acme.headers['x-ratelimit-limit']).toBe('2');
    // No contract: the base limiter's rate.
    await hit('/contract', 'globex', '').expect(200);
    const rejected = await hit('/contract', 'globex', '').expect(429);
    expect(rejected.headers['x-ratelimit-limit']).toBe('1');
    // acme's contract grows: the clone is rebuilt, and its two admissions still count.
    contracts.set('acme', 3);
    await hit('/contract', 'acme', '').expect(200);
    const grown = await hit('/contract', 'acme', '').expect(429);
    expect(grown.headers['x-ratelimit-limit']).toBe('3');
  });
});

describe('tiers: declaration errors', () => {
  const boot = (among: string[]) => {
    @Controller()
    class Tiered {
      @Get()
      @RateLimit({ among, pick: () => among[0] })
      handler(): void {}
    }
    return createApp('express', {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: { api_free: window(1), api_pro: window(3) },
        }),
      ],
      controllers: [Tiered],
    });
  };

  it('fails to boot on an unknown candidate, with a did-you-mean hint and the route', async () => {
    await expect(boot(['api_free', 'api_pr'])).rejects.toThrow(
      /Unknown limiter 'api_pr' in @RateLimit on Tiered\.handler; did you mean 'api_pro'/,
    );
  });

  it('rejects bad tier declarations when decorating, naming the field', () => {
    const pick = () => 'a';
    expect(() => RateLimit({ among: [], pick })).toThrow(/among/);
    expect(() => RateLimit({ among: 'a' as never, pick })).toThrow(/among/);
    expect(() => RateLimit({ among: ['a'], pick, key: '{ip}' } as never)).toThrow(
      /key: unknown field of a tiered limit/,
    );
    expect(() => RateLimit({ among: ['a', 'a'], pick })).toThrow(/among.*'a' is listed twice/);
    expect(() => RateLimit({ among: ['a'], pick: 'a' as never })).toThrow(/pick/);
    expect(() => RateLimit({ among: ['a', 'b'], pick }, { strategy: 'any_must_pass' })).toThrow(
      /strategy/,
    );
    expect(() => RateLimit({ among: ['a'], pick }, { key: { c: '{ip}' } })).toThrow(/key\.c/);
  });
});
