import { Injectable } from '@nestjs/common';
import { LimiterService, type StoreHealth } from '../limiter.service';

/**
 * What {@link RateSyncHealthIndicator.isHealthy} reports under its key, in the shape of a
 * `@nestjs/terminus` `HealthIndicatorResult`: `up` when every store checked is reachable, `down`
 * otherwise, with each store's reachability and circuit breaker state.
 */
export type RateSyncHealthResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down'; stores: StoreHealth[] }
>;

/** Options of {@link RateSyncHealthIndicator.isHealthy}. */
export interface RateSyncHealthOptions {
  /** Store ids to check. Default: every configured store. */
  stores?: readonly string[];
}

/**
 * A health indicator for `@nestjs/terminus` (11 or later; the package stays optional, this
 * class does not import it): each store's reachability and breaker state, for a readiness
 * check. Provided and exported by `RateSyncModule`:
 *
 * `this.health.check([() => this.rateSync.isHealthy('rate_sync')])`
 */
@Injectable()
export class RateSyncHealthIndicator {
  constructor(private readonly limiters: LimiterService) {}

  /**
   * Checks the stores; the result is `down` (terminus answers 503) when one is unreachable.
   * @param key the key of the result in the health check's report
   */
  async isHealthy<Key extends string = 'rate_sync'>(
    key: Key = 'rate_sync' as Key,
    options: RateSyncHealthOptions = {},
  ): Promise<RateSyncHealthResult<Key>> {
    const all = await this.limiters.health();
    const stores = options.stores ? all.filter((s) => options.stores!.includes(s.store)) : all;
    const status = stores.every((s) => s.up) ? 'up' : 'down';
    return { [key]: { status, stores } } as RateSyncHealthResult<Key>;
  }
}
