import { Logger } from '@nestjs/common';
import { RateSync } from '../core';
import type { RateSyncSettings } from './rate-sync-settings';

/**
 * The application's {@link RateSync}: the loaded configuration, the settings' clock, and Nest's
 * `Logger` (context `RateSync`) for the core's warnings. Not connected yet: the module
 * connects it at init.
 */
export function createRateSync(settings: RateSyncSettings): RateSync {
  return new RateSync(settings.config, {
    clock: settings.clock,
    logger: new Logger('RateSync'),
    enforce: settings.enforce,
  });
}
