import type { ConfigProblem } from '../errors';
import type { LimiterOptions, RateSyncConfig, StoreOptions } from '../options';
import type { ConfigLayer } from './config-layer';
import { mergeLayers } from './merge-layers';
import { setOwn } from './own-property';
import { ProblemList } from './problem-list';
import { checkTableFields } from './table-fields';
import { validateLimiter } from './validate-limiter';
import { validateStore } from './validate-store';

/** A validated configuration, with what the Python library's `[fastapi]` table may add. */
export interface ValidatedConfig extends RateSyncConfig {
  /**
   * What loads but has no effect, each with its path (and file and line): a parameter of the
   * other algorithm on a limiter (`rate_per_second` on a `sliding_window` limiter), which the
   * Python library ignores too. The module logs each once at boot.
   */
  readonly warnings: readonly ConfigProblem[];
  /**
   * Trusted proxy CIDRs from `[fastapi] trusted_proxy_networks` (a Python rate-sync file),
   * when given. The module's `trustedProxies` option means the same thing.
   */
  trustedProxies?: string[];
}

/**
 * Validates configuration layers (the TOML file's data, then inline options) merged key by key,
 * and returns the normalized camelCase configuration.
 *
 * Validation is complete: every problem of every store and limiter is collected before
 * anything is thrown, so nothing starts half-configured.
 *
 * @throws ConfigValidationError listing every problem, each with its path (as the user spelled
 *   it) and, for a file, the file and line.
 */
export function validateConfig(layers: ConfigLayer | readonly ConfigLayer[]): ValidatedConfig {
  const problems = new ProblemList();
  const config = collectConfig(isLayerList(layers) ? layers : [layers], problems);
  problems.throwIfAny();
  return config;
}

/**
 * Like {@link validateConfig}, but adds the problems to `problems` instead of throwing, so a
 * caller can report them together with its own (the loader's env interpolation problems). The
 * result holds only the stores and limiters that are valid.
 */
export function collectConfig(
  layers: readonly ConfigLayer[],
  problems: ProblemList,
): ValidatedConfig {
  const merged = mergeLayers(layers, problems);

  const stores: Record<string, StoreOptions> = {};
  for (const [id, table] of merged.stores) {
    const options = validateStore(table, problems);
    if (options) setOwn(stores, id, options);
  }
  const storeIds = [...merged.stores.keys()];
  const limiters: Record<string, LimiterOptions> = {};
  for (const [id, table] of merged.limiters) {
    const options = validateLimiter(table, storeIds, problems);
    if (options) setOwn(limiters, id, options);
  }
  let trustedProxies: string[] | undefined;
  if (merged.fastapi) {
    const { values } = checkTableFields(merged.fastapi, problems);
    trustedProxies = values.get('trusted_proxy_networks') as string[] | undefined;
  }
  return {
    stores,
    limiters,
    ...(trustedProxies ? { trustedProxies } : {}),
    warnings: problems.warnings,
  };
}

function isLayerList(
  layers: ConfigLayer | readonly ConfigLayer[],
): layers is readonly ConfigLayer[] {
  return Array.isArray(layers);
}
