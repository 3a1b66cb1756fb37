/** The metadata key under which `@RateLimit` / `@SkipRateLimit` store their declaration. */
export const RATE_LIMIT_METADATA = 'rate-sync:limit';

/** Injection token of the options given to `forRoot` / returned by `forRootAsync`'s factory. */
export const RATE_SYNC_MODULE_OPTIONS = 'RATE_SYNC_MODULE_OPTIONS';

/** Injection token of the resolved settings (defaults applied, configuration loaded). */
export const RATE_SYNC_SETTINGS = 'RATE_SYNC_SETTINGS';
