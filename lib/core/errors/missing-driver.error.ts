import { RateSyncError } from './rate-sync.error';

/** A store uses an engine whose driver package is not installed. */
export class MissingDriverError extends RateSyncError {
  constructor(
    readonly storeId: string,
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
