import type { DiscoveredConfigFile } from './discover';

// No runtime import here: the errors import this file, and discover.ts imports the errors.

/** The environment variable naming the config file. */
export const CONFIG_ENV_VAR = 'RATE_SYNC_CONFIG';

/** The default locations, relative to the working directory, tried in order. */
export const DEFAULT_CONFIG_PATHS: readonly string[] = ['rate-sync.toml', 'config/rate-sync.toml'];

/**
 * Where the configuration came from: a TOML file, or none (files disabled with
 * `configFile: false`, or no file at the default locations). Carried for messages: the boot log
 * line and the "unknown limiter" error say which file was read, or where none was found.
 */
export type ConfigSource =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly origin: DiscoveredConfigFile['source'];
    }
  | { readonly kind: 'disabled' }
  | {
      readonly kind: 'not-found';
      /** The working directory the default locations were resolved against. */
      readonly cwd: string;
      /** The default locations tried, relative to `cwd`, in order. */
      readonly tried: readonly string[];
    };

/** `config file /app/rate-sync.toml`, `no config file (configFile: false)`, ... */
export function describeConfigSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'file':
      return `config file ${source.path}${source.origin === 'env' ? ` (from ${CONFIG_ENV_VAR})` : ''}`;
    case 'disabled':
      return 'no config file (configFile: false)';
    case 'not-found':
      return `no config file (none of ${source.tried.join(', ')} in ${source.cwd}; ${CONFIG_ENV_VAR} is not set)`;
  }
}

/**
 * What to do when a limiter is missing because no file was found: where the loader looked and
 * how to point it at a file. Empty for the other sources.
 */
export function missingFileHint(source: ConfigSource | undefined): string {
  if (source?.kind !== 'not-found') return '';
  return (
    `No config file was found: looked for ${source.tried.join(' and ')} in the working ` +
    `directory ${source.cwd}, and ${CONFIG_ENV_VAR} is not set. Point at your file with ` +
    `${CONFIG_ENV_VAR}=/path/to/rate-sync.toml or forRoot({ configFile: 'path/to/rate-sync.toml' }), ` +
    `or declare the limiters in code (the module's limiters option).`
  );
}

/** The source of a configuration, from what discovery found (or did not) and why. */
export function configSourceOf(
  found: DiscoveredConfigFile | undefined,
  configFile: string | false | undefined,
  cwd: string,
): ConfigSource {
  if (found) return { kind: 'file', path: found.path, origin: found.source };
  return configFile === false
    ? { kind: 'disabled' }
    : { kind: 'not-found', cwd, tried: DEFAULT_CONFIG_PATHS };
}
