import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { exportMetrics, formatConfigProblem, RateSync, RateSyncError } from '../core';
import { describeConfig } from '../core/config/describe-config';
import { createRateSync } from './create-rate-sync';
import { HandlerCompletionBinder } from './explorer/handler-completion.binder';
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
 * Validates every `@RateLimit` and wraps decorated provider methods at init, connects the
 * stores, and closes them at shutdown. A provider of the `forRoot` module, not hooks of the
 * module class, so that importing the bare class elsewhere runs nothing twice.
 */
@Injectable()
class RateSyncLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateSync');
  private detachMetrics?: () => void;

  /** @internal Nest creates the module. */
  constructor(
    private readonly rateSync: RateSync,
    private readonly explorer: RateLimitExplorer,
    @Inject(RATE_SYNC_SETTINGS) private readonly settings: RateSyncSettings,
  ) {}

  /**
   * Validates every `@RateLimit` (unknown ids fail the boot), wraps provider methods, then
   * connects the stores (an unreachable store fails the boot only for fail_closed limiters).
   */
  async onModuleInit(): Promise<void> {
    for (const warning of this.settings.warnings) {
      this.logger.warn(`rate-sync: ${formatConfigProblem(warning)}`);
    }
    try {
      this.explorer.explore();
      this.detachMetrics = exportMetrics(this.rateSync, this.settings.metrics);
      await this.rateSync.connect();
    } catch (err) {
      this.detachMetrics?.();
      await this.rateSync.close();
      throw err;
    }
    this.logger.log(`rate-sync ready: ${describeConfig(this.settings.config)}`);
  }

  /** Releases the permits this process holds and closes every store client and pool. */
  async onApplicationShutdown(): Promise<void> {
    this.detachMetrics?.();
    this.detachMetrics = undefined;
    await this.rateSync.close();
  }
}

/** What `forRoot` / `forRootAsync` add to the options provider the builder makes. */
const ROOT_PROVIDERS: Provider[] = [
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
  HandlerCompletionBinder,
  RateSyncLifecycle,
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
];
const ROOT_EXPORTS = [
  RateSync,
  LimiterService,
  RateSyncHealthIndicator,
  RATE_SYNC_SETTINGS,
  RateLimitRegistry,
  RateLimitExceptionFilter,
];

/** Token of the check that runs when the bare class is imported (see {@link RateSyncModule}). */
const BARE_IMPORT_CHECK = 'RATE_SYNC_BARE_IMPORT_CHECK';

/**
 * The bare `RateSyncModule` class, imported without `forRoot`, provides nothing: it is
 * harmless next to a global `forRoot`, and is an error without one (Nest cannot hand another
 * module's non-global instance to it).
 */
function checkBareImport(settings: RateSyncSettings | undefined): true {
  if (settings) return true;
  throw new RateSyncError(
    'RateSyncModule is imported without forRoot() or forRootAsync(), and no global ' +
      'RateSyncModule.forRoot() is in the application. With isGlobal: false, the bare class ' +
      'cannot reach the instance forRoot() created: import forRoot() in one module of yours ' +
      'that re-exports it (imports: [RateSyncModule.forRoot({ isGlobal: false })], ' +
      'exports: [RateSyncModule]) and import that module where LimiterService or @RateLimit ' +
      'is used, or leave isGlobal at its default (true).',
  );
}

/**
 * Rate limiting for the application: loads the configuration, provides
 * {@link LimiterService}, registers the global {@link RateLimitGuard} (HTTP) and, with
 * `nonHttp: true`, the global {@link RateLimitInterceptor} (other contexts), validates every
 * `@RateLimit` and wraps decorated provider methods at init, connects the stores at init and
 * closes them at shutdown.
 * Import `forRoot()` or `forRootAsync()` once, in the root module. Feature modules need no
 * import (the module is global by default); importing the bare class there is allowed and
 * adds nothing.
 */
@Module({
  providers: [
    {
      provide: BARE_IMPORT_CHECK,
      useFactory: checkBareImport,
      inject: [{ token: RATE_SYNC_SETTINGS, optional: true }],
    },
  ],
})
export class RateSyncModule extends RateSyncConfigurableModule {
  /**
   * `RateSyncModule.forRoot({ limiters, stores, configFile, trustedProxies, headers, nonHttp,
   * isGlobal })`. Every option is optional: with none, `rate-sync.toml` is discovered.
   */
  static override forRoot(options: RateSyncRootOptions = {}): DynamicModule {
    return withRootProviders(super.forRoot(options));
  }

  /** `RateSyncModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting, isGlobal })`. */
  static override forRootAsync(options: RateSyncAsyncOptions): DynamicModule {
    return withRootProviders(super.forRootAsync(options));
  }
}

function withRootProviders(definition: DynamicModule): DynamicModule {
  return {
    ...definition,
    imports: [...(definition.imports ?? []), DiscoveryModule],
    providers: [...(definition.providers ?? []), ...ROOT_PROVIDERS],
    exports: [...(definition.exports ?? []), ...ROOT_EXPORTS],
  };
}
