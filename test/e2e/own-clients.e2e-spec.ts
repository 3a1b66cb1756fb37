import { Controller, Get, Global, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { Pool } from 'pg';
import request from 'supertest';
import { RateLimit, RateSyncModule } from '../../lib/nest';
import { describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

/** The application's own connections, provided under its own tokens. */
const REDIS = Symbol('REDIS');
const PG_POOL = Symbol('PG_POOL');

/** What the application's own module holds, to check after shutdown. */
const opened: { redis?: Redis; pool?: Pool } = {};

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      useFactory: async (): Promise<Redis> => {
        const redis = new Redis(redisUrl(), { lazyConnect: true });
        await redis.connect();
        return (opened.redis = redis);
      },
    },
    {
      provide: PG_POOL,
      useFactory: (): Pool => (opened.pool = new Pool({ connectionString: PG_URL })),
    },
  ],
  exports: [REDIS, PG_POOL],
})
class ConnectionsModule {}

@Controller()
class LimitedController {
  @Get('cache')
  @RateLimit('on_redis')
  cache(): string {
    return 'ok';
  }

  @Get('db')
  @RateLimit('on_postgres')
  db(): string {
    return 'ok';
  }
}

/** Runs `fn` only when both servers answer (each gate reports what is missing). */
function describeBoth(name: string, fn: () => void): void {
  describeRedis(name, () => describePg('and PostgreSQL', fn));
}

describeBoth('forRootAsync with the application’s own Redis client and pg Pool', () => {
  const schemas: string[] = [];
  afterAll(() => Promise.all(schemas.map(dropSchema)));

  describe.each(ADAPTERS)('%s', (adapter) => {
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
      opened.redis?.disconnect();
      await opened.pool?.end();
      opened.redis = opened.pool = undefined;
    });

    it('limits on them through inject, and leaves them open at shutdown', async () => {
      const schema = uniqueName('rs_own');
      schemas.push(schema);
      t = await createApp(adapter, {
        imports: [
          ConnectionsModule,
          RateSyncModule.forRootAsync({
            inject: [REDIS, PG_POOL],
            useFactory: (redis: Redis, pool: Pool) => ({
              configFile: false,
              stores: {
                cache: { engine: 'redis', client: redis, keyPrefix: uniquePrefix('own') },
                db: { engine: 'postgres', client: pool, schemaName: schema },
              },
              limiters: {
                on_redis: {
                  store: 'cache',
                  algorithm: 'sliding_window',
                  limit: 1,
                  windowSeconds: 60,
                },
                on_postgres: {
                  store: 'db',
                  algorithm: 'sliding_window',
                  limit: 1,
                  windowSeconds: 60,
                },
              },
            }),
          }),
        ],
        controllers: [LimitedController],
      });
      for (const path of ['/cache', '/db']) {
        await request(t.url).get(path).expect(200);
        await request(t.url).get(path).expect(429);
      }
      await t.close();
      t = undefined;
      // Closing the application closed rate-sync, not the application's connections.
      expect(opened.redis?.status).toBe('ready');
      expect(await opened.redis?.ping()).toBe('PONG');
      expect(opened.pool?.ended).toBe(false);
      expect((await opened.pool!.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it('takes a client in forRoot too (created before the module)', async () => {
      const redis = new Redis(redisUrl());
      try {
        t = await createApp(adapter, {
          imports: [
            RateSyncModule.forRoot({
              configFile: false,
              stores: { cache: { engine: 'redis', client: redis, keyPrefix: uniquePrefix('own') } },
              limiters: {
                on_redis: {
                  store: 'cache',
                  algorithm: 'sliding_window',
                  limit: 1,
                  windowSeconds: 60,
                },
                on_postgres: { store: 'cache', ratePerSecond: 1 },
              },
            }),
          ],
          controllers: [LimitedController],
        });
        await request(t.url).get('/cache').expect(200);
        await request(t.url).get('/cache').expect(429);
        await t.close();
        t = undefined;
        expect(await redis.ping()).toBe('PONG');
      } finally {
        redis.disconnect();
      }
    });
  });
});
