import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { exportMetrics, RateSync } from '../core';
import { createRateSync } from './create-rate-sync';
import { RateLimitExplorer } from './explorer/rate-limit.explorer';
import { RateLimitExceptionFilter } from './http/rate-limit-exception.filter';
import { RateSyncHealthIndicator } from './health/rate-sync.health-indicator';
import { LimiterService } from './limiter.service';
import { RateLimitRegistry } from './limits/rate-limit.registry';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitInterceptor } from './rate-limit.interceptor';
import { RateLimitMetadataAccessor } from './rate-limit-metadata.accessor';
import { RATE_SYNC_MODULE_OPTIONS, RATE_SYNC_SETTINGS } from './rate-sync.constants';
import {
  RateSyncConfigurableModule,
  type RateSyncAsyncOptions,
  type RateSyncRootOptions,
} from './rate-sync.module-definition';
import { resolveSettings, type RateSyncSettings } from './rate-sync-settings';

/**
 * Rate limiting for the application: loads the configuration, provides {@link RateSync} and
 * {@link LimiterService}, registers the global {@link RateLimitGuard} (HTTP) and, with
 * `nonHttp: true`, the global {@link RateLimitInterceptor} (other contexts), validates every
 * `@RateLimit` and wraps decorated provider methods at init, connects the stores at init and
 * closes them at shutdown.
 * Import it once, in the root module.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RATE_SYNC_SETTINGS,
      useFactory: resolveSettings,
      inject: [RATE_SYNC_MODULE_OPTIONS],
    },
    { provide: RateSync, useFactory: createRateSync, inject: [RATE_SYNC_SETTINGS] },
    LimiterService,
    RateSyncHealthIndicator,
    RateLimitMetadataAccessor,
    RateLimitRegistry,
    RateLimitExplorer,
    {
      provide: APP_GUARD,
      useFactory: (settings: RateSyncSettings, moduleRef: ModuleRef) =>
        moduleRef.create(settings.guard ?? RateLimitGuard),
      inject: [RATE_SYNC_SETTINGS, ModuleRef],
    },
    {
      // Only with `nonHttp: true`: a factory that returns nothing registers no global
      // interceptor, so HTTP requests skip Nest's interceptor pipeline altogether.
      provide: APP_INTERCEPTOR,
      useFactory: (settings: RateSyncSettings, moduleRef: ModuleRef) =>
        settings.nonHttp ? moduleRef.create(RateLimitInterceptor) : null,
      inject: [RATE_SYNC_SETTINGS, ModuleRef],
    },
    // 429/503 with the headers for rate-limit errors thrown anywhere in an HTTP request.
    RateLimitExceptionFilter,
    { provide: APP_FILTER, useExisting: RateLimitExceptionFilter },
  ],
  exports: [
    RateSync,
    LimiterService,
    RateSyncHealthIndicator,
    RATE_SYNC_SETTINGS,
    RateLimitRegistry,
    RateLimitExceptionFilter,
  ],
})
export class RateSyncModule
  extends RateSyncConfigurableModule
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger('RateSync');
  private detachMetrics?: () => void;

  constructor(
    private readonly rateSync: RateSync,
    private readonly explorer: RateLimitExplorer,
    @Inject(RATE_SYNC_SETTINGS) private readonly settings: RateSyncSettings,
  ) {
    super();
  }

  /**
   * `RateSyncModule.forRoot({ limiters, stores, configFile, trustedProxies, headers, nonHttp,
   * isGlobal })`. Every option is optional: with none, `rate-sync.toml` is discovered.
   */
  static override forRoot(options: RateSyncRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** `RateSyncModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting, isGlobal })`. */
  static override forRootAsync(options: RateSyncAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }

  /**
   * Validates every `@RateLimit` (unknown ids fail the boot), wraps provider methods, then
   * connects the stores (an unreachable store fails the boot only for fail_closed limiters).
   */
  async onModuleInit(): Promise<void> {
    try {
      this.explorer.explore();
      this.detachMetrics = exportMetrics(this.rateSync, this.settings.metrics);
      await this.rateSync.connect();
    } catch (err) {
      this.detachMetrics?.();
      await this.rateSync.close();
      throw err;
    }
    this.logger.log(`${this.rateSync.limiterIds().length} limiter(s) ready`);
  }

  /** Releases the permits this process holds and closes every store client and pool. */
  async onApplicationShutdown(): Promise<void> {
    this.detachMetrics?.();
    this.detachMetrics = undefined;
    await this.rateSync.close();
  }
}
