import { RateSyncError } from './rate-sync.error';

/** A store id was referenced that is not configured. */
export class StoreNotFoundError extends RateSyncError {
  constructor(
    /** The unknown store id. */
    readonly storeId: string,
    /** The configured store ids. */
    readonly knownIds: readonly string[],
  ) {
    const known = knownIds.length ? knownIds.map((id) => `'${id}'`).join(', ') : '(none)';
    super(
      `Unknown store '${storeId}'. Known stores: ${known}. ` +
        `Declare it under [stores.${storeId}] in rate-sync.toml or in the module's stores option.`,
    );
    this.name = 'StoreNotFoundError';
  }
}
