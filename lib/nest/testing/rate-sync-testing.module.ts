import { Module, type DynamicModule } from '@nestjs/common';
import { ManualClock, type StoreOptions } from '../../core';
import { loadConfig } from '../../core/config';
import { RateSyncModule } from '../rate-sync.module';
import type { RateSyncModuleOptions } from '../rate-sync-module-options.interface';
import { RateSyncTesting } from './rate-sync-testing';

/** Options of {@link RateSyncTestingModule.forRoot}: the module's, without a clock of its own. */
export interface RateSyncTestingOptions extends Omit<RateSyncModuleOptions, 'clock'> {
  /** Epoch milliseconds the manual clock starts at. @default 1_700_000_000_000 */
  readonly startAt?: number;
}

/**
 * `RateSyncModule` for tests: the same limiters (from `rate-sync.toml` and the inline options,
 * discovered and validated as usual), every store replaced by an in-process memory store, and
 * a {@link ManualClock} that only moves when the test says so. Provides {@link RateSyncTesting}
 * (the clock and a reset of every limiter) and `ManualClock`, globally.
 *
 * @example
 * ```ts
 * Test.createTestingModule({ imports: [RateSyncTestingModule.forRoot()], controllers: [...] })
 * ```
 */
@Module({})
export class RateSyncTestingModule {
  /** @throws ConfigValidationError when the configuration is invalid, as `forRoot` would */
  static forRoot(options: RateSyncTestingOptions = {}): DynamicModule {
    const { startAt, configFile, stores, limiters, ...rest } = options;
    const loaded = loadConfig({ configFile, stores, limiters });
    const clock = new ManualClock(startAt);
    const memory: Record<string, StoreOptions> = {};
    for (const id of Object.keys(loaded.stores)) memory[id] = { engine: 'memory' };
    return {
      module: RateSyncTestingModule,
      global: true,
      imports: [
        RateSyncModule.forRoot({
          trustedProxies: loaded.trustedProxies,
          ...rest,
          configFile: false,
          stores: memory,
          limiters: loaded.limiters,
          clock,
        }),
      ],
      providers: [{ provide: ManualClock, useValue: clock }, RateSyncTesting],
      exports: [ManualClock, RateSyncTesting],
    };
  }
}
