import { RateSyncError } from './rate-sync.error';

/** A store uses an engine whose driver package is not installed. */
export class MissingDriverError extends RateSyncError {
  constructor(
    /** The store that needs the driver. */
    readonly storeId: string,
    /** The npm package to install: `ioredis`, `redis` (node-redis) or `pg`. */
    readonly packageName: string,
    cause?: unknown,
  ) {
    super(
      `Store '${storeId}' needs the '${packageName}' package, which is not installed. ` +
        `Run: npm install ${packageName}`,
      { cause },
    );
    this.name = 'MissingDriverError';
  }
}
