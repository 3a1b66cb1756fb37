import { Body, Controller, Get, Post } from '@nestjs/common';
import request from 'supertest';
import { systemClock, type Clock, type StoreOptions } from '../../lib/core';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

const HOUR = 3_600_000;
const WINDOW = { store: 's', algorithm: 'sliding_window' as const, windowSeconds: 60 };

@Controller('true')
class TrueController {
  @Get('window')
  @RateLimit('pair')
  window(): string {
    return 'ok';
  }

  @Post('auth')
  @RateLimit(['auth_ip', 'auth_credential'], {
    key: { auth_ip: '{ip}', auth_credential: 'cred:{body.email}' },
  })
  auth(@Body() _body: { email?: string }): string {
    return 'auth';
  }
}

/** This process's clock, `ms` away from the machine's (a Redis server's clock stays right). */
function shifted(ms: number): Clock {
  return { now: () => systemClock.now() + ms, sleep: (d, s) => systemClock.sleep(d, s) };
}

async function start(
  adapter: (typeof ADAPTERS)[number],
  store: StoreOptions,
  clock?: Clock,
): Promise<TestApp> {
  return createApp(adapter, {
    imports: [
      RateSyncModule.forRoot({
        configFile: false,
        headers: 'both',
        clock,
        stores: { s: store },
        limiters: {
          pair: { ...WINDOW, limit: 2 },
          auth_ip: { ...WINDOW, limit: 3 },
          auth_credential: { ...WINDOW, limit: 1 },
        },
      }),
    ],
    controllers: [TrueController],
  });
}

const memory = (): StoreOptions => ({ engine: 'memory' });
const redis = (): StoreOptions => ({
  engine: 'redis',
  url: redisUrl(),
  keyPrefix: uniquePrefix('e2e_true'),
});

function compositeSuite(store: () => StoreOptions): void {
  describe.each(ADAPTERS)('%s', (adapter) => {
    it("a rejected composite's headers report each layer as it is (the passing one uncharged)", async () => {
      const t = await start(adapter, store());
      try {
        const auth = (email: string): request.Test =>
          request(t.url).post('/true/auth').send({ email });
        await auth('a@x.io').expect(201);
        const rejected = await auth('a@x.io').expect(429);
        const ip = await t.app.get(LimiterService).state('auth_ip', '127.0.0.1');
        expect(ip.remaining).toBe(2);
        expect(rejected.headers['ratelimit']).toMatch(
          /^"auth_ip";r=2;t=(59|60), "auth_credential";r=0;t=(59|60)$/,
        );
        expect(rejected.headers['x-ratelimit-remaining']).toBe('0');
      } finally {
        await t.close();
      }
    });
  });
}

describe('true headers: a rejected composite (memory)', () => compositeSuite(memory));
describeRedis('true headers: a rejected composite (redis)', () => compositeSuite(redis));

describeRedis("true headers: times on the store's clock (redis)", () => {
  describe.each(ADAPTERS)('%s', (adapter) => {
    it.each([
      ['an hour ahead of', HOUR],
      ['an hour behind', -HOUR],
    ])("with this process's clock %s the server's", async (_, skew) => {
      const clock = shifted(skew);
      const t = await start(adapter, redis(), clock);
      try {
        const get = (): request.Test => request(t.url).get('/true/window');
        await get().expect(200);
        const second = await get().expect(200);
        expect(second.headers['ratelimit']).toMatch(/^"pair";r=0;t=(59|60)$/);
        // Epoch seconds on this process's clock (the module's `clock`).
        const reset = Number(second.headers['x-ratelimit-reset']) * 1000;
        expect(Math.abs(reset - (clock.now() + 60_000))).toBeLessThan(2_000);
        const rejected = await get().expect(429);
        expect(rejected.headers['ratelimit']).toMatch(/^"pair";r=0;t=(59|60)$/);
        expect(rejected.headers['retry-after']).toMatch(/^(59|60)$/);
      } finally {
        await t.close();
      }
    });
  });
});
