import {
  Controller,
  Get,
  Injectable,
  Module,
  type CanActivate,
  type DynamicModule,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { RateLimit, RateSyncModule, type StoreOptions } from '../../lib';
import { BENCH_REDIS_URL, type AppVariant } from './app-variant';

/** "Never reached" for throttler: far above what one client can send in its 1 s window. */
const UNREACHED = 1_000_000_000;
/** "Never reached" for rate-sync: 100,000/s with a burst of 10 million (see the core suite). */
const UNREACHED_TOKEN_BUCKET = { ratePerSecond: 100_000, burst: 10_000_000 };

/** The one route, with no limiter. */
@Controller()
class BareController {
  @Get()
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

/** The same route limited by rate-sync (default key: the client IP). */
@Controller()
class LimitedController {
  @Get()
  @RateLimit('api')
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

/**
 * A global guard that lets everything through: what any global guard costs in Nest (the
 * guard pipeline, a promise hop), the floor under which no guard-based limiter can go.
 */
@Injectable()
class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Module({})
export class BenchAppModule {
  /**
   * The application of one variant. noop-guard: the bare route behind a global guard that
   * returns true. rate-sync: a token bucket on the memory engine, either
   * never reached (100,000/s, burst 10 million) or always exceeded (one admission per hour,
   * burst 1); `rate-sync-redis`: the never-reached bucket on Redis (its one key, the client
   * IP, expires by itself within a second). throttler: set
   * up as its README shows (`ThrottlerModule.forRoot([{ ttl, limit }])` and `ThrottlerGuard` as
   * APP_GUARD) with its default in-memory storage, either never reached (a 1 s window, the
   * shortest sensible, since its storage keeps one timestamp per hit within the window) or
   * always exceeded (limit 1 per minute).
   */
  static forVariant(variant: AppVariant): DynamicModule {
    const controllers: Type[] = [
      variant.startsWith('rate-sync') ? LimitedController : BareController,
    ];
    switch (variant) {
      case 'bare':
        return { module: BenchAppModule, controllers };
      case 'noop-guard':
        return {
          module: BenchAppModule,
          controllers,
          providers: [{ provide: APP_GUARD, useClass: NoopGuard }],
        };
      case 'rate-sync':
      case 'rate-sync-prom':
      case 'rate-sync-reject':
      case 'rate-sync-redis': {
        const store: StoreOptions =
          variant === 'rate-sync-redis'
            ? { engine: 'redis', url: BENCH_REDIS_URL, keyPrefix: `rs_bench_http_${process.pid}` }
            : { engine: 'memory' };
        const limit =
          variant === 'rate-sync-reject'
            ? { ratePerSecond: 1 / 3600, burst: 1 }
            : UNREACHED_TOKEN_BUCKET;
        return {
          module: BenchAppModule,
          controllers,
          imports: [
            RateSyncModule.forRoot({
              configFile: false,
              stores: { s: store },
              limiters: { api: { store: 's', ...limit } },
              // Metrics off except in the variant that measures their cost.
              metrics: { prometheus: variant === 'rate-sync-prom', openTelemetry: false },
            }),
          ],
        };
      }
      case 'throttler':
      case 'throttler-reject':
        return {
          module: BenchAppModule,
          controllers,
          imports: [
            ThrottlerModule.forRoot([
              variant === 'throttler' ? { ttl: 1000, limit: UNREACHED } : { ttl: 60_000, limit: 1 },
            ]),
          ],
          providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
        };
    }
  }
}
