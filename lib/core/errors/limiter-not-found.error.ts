import { RateSyncError } from './rate-sync.error';

/** A limiter id was used that is not configured. The message lists the known ids. */
export class LimiterNotFoundError extends RateSyncError {
  constructor(
    /** The unknown id. */
    readonly limiterId: string,
    /** The configured limiter ids. */
    readonly knownIds: readonly string[],
    context?: string,
  ) {
    const known = knownIds.length ? knownIds.map((id) => `'${id}'`).join(', ') : '(none)';
    super(
      `Unknown limiter '${limiterId}'${context ? ` ${context}` : ''}. Known limiters: ${known}. ` +
        `Declare it under [limiters.${limiterId}] in rate-sync.toml or in the module's limiters option.`,
    );
    this.name = 'LimiterNotFoundError';
  }
}
