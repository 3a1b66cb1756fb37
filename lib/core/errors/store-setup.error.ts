import { RateSyncError } from './rate-sync.error';

/**
 * The store was reached but cannot be used as configured: a table of another layout, schema
 * objects missing with `auto_create = false`. Unlike an outage, waiting does not fix it, so it
 * fails the boot even when every limiter of the store is fail-open.
 */
export class StoreSetupError extends RateSyncError {
  constructor(
    /** The store that cannot be used as configured. */
    readonly storeId: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreSetupError';
  }
}
