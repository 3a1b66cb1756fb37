import type { ConfigSource } from '../config/config-source';
import { missingFileHint } from '../config/config-source';
import { didYouMean } from '../config/did-you-mean';
import { RateSyncError } from './rate-sync.error';

/**
 * A limiter id was used that is not configured. The message suggests the closest known id,
 * lists the known ids, and, when no config file was found, says where the loader looked.
 */
export class LimiterNotFoundError extends RateSyncError {
  constructor(
    /** The unknown id. */
    readonly limiterId: string,
    /** The configured limiter ids. */
    readonly knownIds: readonly string[],
    context?: string,
    source?: ConfigSource,
  ) {
    const known = knownIds.length ? knownIds.map((id) => `'${id}'`).join(', ') : '(none)';
    const noFile = missingFileHint(source);
    const hint = didYouMean(limiterId, knownIds, "'");
    super(
      `Unknown limiter '${limiterId}'${context ? ` ${context}` : ''}` +
        `${hint || '.'} Known limiters: ${known}. ` +
        (noFile ||
          `Declare it under [limiters.${limiterId}] in rate-sync.toml or in the module's limiters option.`),
    );
    this.name = 'LimiterNotFoundError';
  }
}
