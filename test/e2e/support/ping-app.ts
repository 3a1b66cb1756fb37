import { Controller, Get } from '@nestjs/common';
import { RateLimit, type RateSyncModuleOptions } from '../../../lib/nest';

/** `GET /ping`, limited by the limiter `one`. */
@Controller()
export class PingController {
  @Get('ping')
  @RateLimit('one')
  ping(): string {
    return 'pong';
  }
}

/**
 * Module options with the limiter `one` (one request a minute, a sliding window) on the memory
 * store `m`, nothing read from `rate-sync.toml`; `extra` is merged in.
 */
export const oneAMinute = (extra: RateSyncModuleOptions = {}): RateSyncModuleOptions => ({
  configFile: false,
  stores: { m: { engine: 'memory' } },
  limiters: { one: { store: 'm', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 } },
  ...extra,
});
