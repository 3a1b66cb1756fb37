import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Param,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import request from 'supertest';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { ADAPTERS, createApp, eventually, type TestApp } from './support/create-app';

@Controller('auth')
class AuthController {
  /** Counts only failed logins: a successful one is refunded. */
  @Post('login')
  @HttpCode(200)
  @RateLimit('login', {
    key: '{body.email}',
    refundWhen: ({ status }) => status !== undefined && status < 400,
  })
  login(@Body() body: { email: string; password: string }): { ok: true } {
    if (body.password !== 'right') throw new UnauthorizedException();
    return { ok: true };
  }
}

@Controller('work')
class WorkController {
  /** Does not charge the caller for a server error. */
  @Get('run/:what')
  @RateLimit('api', { key: false, refundWhen: ({ status }) => (status ?? 0) >= 500 })
  run(@Param('what') what: string): string {
    if (what === 'crash') throw new Error('upstream down');
    return 'ran';
  }

  /** The predicate sees the handler's error. */
  @Get('check/:what')
  @RateLimit('checks', {
    key: false,
    refundWhen: ({ error }) => error instanceof BadRequestException,
  })
  check(@Param('what') what: string): string {
    if (what === 'bad') throw new BadRequestException('bad input');
    return 'checked';
  }
}

@Injectable()
class Mailer {
  sent = 0;
  /** A failed send is not counted against the quota. */
  @RateLimit('mail', { mode: 'try', refundWhen: ({ error }) => error !== undefined })
  async send(ok: boolean): Promise<void> {
    if (!ok) throw new Error('smtp refused');
    this.sent++;
  }
}

type Engine = 'memory' | 'redis';

function suite(engine: Engine): void {
  describe.each(ADAPTERS)('%s', (adapter) => {
    let t: TestApp;
    let service: LimiterService;

    beforeEach(async () => {
      const store =
        engine === 'memory'
          ? { engine: 'memory' as const }
          : { engine: 'redis' as const, url: redisUrl(), keyPrefix: uniquePrefix('refund') };
      t = await createApp(adapter, {
        imports: [
          RateSyncModule.forRoot({
            configFile: false,
            stores: { s: store },
            limiters: {
              login: { store: 's', algorithm: 'sliding_window', limit: 3, windowSeconds: 600 },
              api: { store: 's', ratePerSecond: 0.01, burst: 2 },
              checks: { store: 's', ratePerSecond: 0.01, burst: 1 },
              mail: { store: 's', ratePerSecond: 0.01, burst: 1 },
            },
          }),
        ],
        controllers: [AuthController, WorkController],
        providers: [Mailer],
      });
      service = t.app.get(LimiterService);
    });
    afterEach(() => t.close());

    const login = (password: string) =>
      request(t.url).post('/auth/login').send({ email: 'ann@example.com', password });
    const remaining = async (id: string, key?: string) => (await service.state(id, key)).remaining;

    it('counts only failed logins', async () => {
      for (let i = 0; i < 5; i++) {
        await login('right').expect(200);
        await eventually(async () => (await remaining('login', 'ann@example.com')) === 3);
      }
      await login('wrong').expect(401);
      await login('wrong').expect(401);
      await login('wrong').expect(401);
      await login('wrong').expect(429);
      await login('right').expect(429); // locked out: the right password does not get through
    });

    it('does not charge a server error', async () => {
      await request(t.url).get('/work/run/crash').expect(500);
      await eventually(async () => (await remaining('api')) === 2);
      await request(t.url).get('/work/run/crash').expect(500);
      await eventually(async () => (await remaining('api')) === 2);
      await request(t.url).get('/work/run/fine').expect(200);
      await request(t.url).get('/work/run/fine').expect(200);
      await request(t.url).get('/work/run/fine').expect(429);
    });

    it("gives the predicate the handler's error", async () => {
      await request(t.url).get('/work/check/bad').expect(400);
      await eventually(async () => (await remaining('checks')) === 1);
      await request(t.url).get('/work/check/fine').expect(200);
      await request(t.url).get('/work/check/fine').expect(429);
    });

    it('refunds a provider method by its outcome', async () => {
      const mailer = t.app.get(Mailer);
      await expect(mailer.send(false)).rejects.toThrow('smtp refused');
      await expect(mailer.send(true)).resolves.toBeUndefined();
      await expect(mailer.send(true)).rejects.toThrow(/rate limit/i);
      expect(mailer.sent).toBe(1);
    });
  });
}

describe('refundWhen (memory)', () => suite('memory'));
describeRedis('refundWhen (redis)', () => suite('redis'));

@Controller('slots')
class SlotsController {
  @Get()
  @RateLimit('slots', { refundWhen: () => true })
  run(): string {
    return 'ran';
  }
}

describe('refundWhen on a limiter that cannot refund', () => {
  it('fails the boot naming the handler', async () => {
    const app = createApp('express', {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { s: { engine: 'memory' } },
          limiters: { slots: { store: 's', maxConcurrent: 2 } },
        }),
      ],
      controllers: [SlotsController],
    });
    await expect(app).rejects.toThrow(
      /refundWhen.*'slots' only limit concurrency.*SlotsController\.run/,
    );
  });

  it('rejects a refundWhen that is not a function when the decorator is applied', () => {
    expect(() => RateLimit('x', { refundWhen: 'yes' as never })).toThrow(/refundWhen/);
  });
});
