import { ConfigurableModuleBuilder, type ConfigurableModuleAsyncOptions } from '@nestjs/common';
import { RATE_SYNC_MODULE_OPTIONS } from './rate-sync.constants';
import type { RateSyncModuleOptions } from './rate-sync-module-options.interface';

/** `forRoot` / `forRootAsync`, with `isGlobal` (default true) as an extra of both. */
export const {
  ConfigurableModuleClass: RateSyncConfigurableModule,
  OPTIONS_TYPE: RATE_SYNC_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RATE_SYNC_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RateSyncModuleOptions>({
  moduleName: 'RateSync',
  optionsInjectionToken: RATE_SYNC_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateSyncOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** What `RateSyncModule.forRoot()` accepts: the module options plus `isGlobal`. */
export interface RateSyncRootOptions extends RateSyncModuleOptions {
  /** Register the module's providers globally. @default true */
  isGlobal?: boolean;
}

/**
 * What `RateSyncModule.forRootAsync()` accepts: `imports`, `inject` and one of `useFactory`,
 * `useClass` (a {@link RateSyncOptionsFactory}) or `useExisting`, plus `isGlobal`.
 */
export type RateSyncAsyncOptions = ConfigurableModuleAsyncOptions<
  RateSyncModuleOptions,
  'createRateSyncOptions'
> &
  Pick<RateSyncRootOptions, 'isGlobal'>;
