import { join } from 'node:path';
import type { RateSyncModuleOptions } from '@rate-sync/nestjs';

/**
 * The sample's module options: sample/rate-sync.toml (or `RATE_SYNC_CONFIG`), and the store's URL
 * from the environment when `RATE_LIMIT_ENGINE` selects a shared engine, merged over the file's
 * `[stores.main]`: `REDIS_URL` for redis, `DATABASE_URL` for postgres, nothing for memory.
 * `REDIS_DRIVER=node-redis` connects to Redis with node-redis (the `redis` package) instead of
 * ioredis.
 * Every route without a `@RateLimit` of its own takes the `default` limiter, except `/health`
 * and `/metrics`.
 */
export function rateSyncOptions(env: NodeJS.ProcessEnv = process.env): RateSyncModuleOptions {
  const engine = env.RATE_LIMIT_ENGINE ?? 'memory';
  const url =
    engine === 'redis'
      ? (env.REDIS_URL ?? 'redis://127.0.0.1:6379')
      : engine === 'postgres'
        ? (env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
        : undefined;
  return {
    // Found from sample/src (ts-jest) and sample/dist (compiled) alike.
    configFile: env.RATE_SYNC_CONFIG ?? join(__dirname, '..', 'rate-sync.toml'),
    stores: url ? { main: { url, ...redisDriver(engine, env) } } : undefined,
    // Routes without a @RateLimit of their own get the `default` limiter, except the probes
    // (a load balancer's health checks must never be refused).
    defaultLimit: { limiters: 'default', exclude: ['/health', '/metrics'] },
  };
}

/** `driver` from `REDIS_DRIVER` on a redis store (a value other than the two is a config error). */
function redisDriver(
  engine: string,
  env: NodeJS.ProcessEnv,
): { driver?: 'ioredis' | 'node-redis' } {
  const driver = env.REDIS_DRIVER;
  return engine === 'redis' && driver ? { driver: driver as 'ioredis' | 'node-redis' } : {};
}
