import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigValidationError } from '../errors';

import { CONFIG_ENV_VAR, DEFAULT_CONFIG_PATHS } from './config-source';

export { CONFIG_ENV_VAR, DEFAULT_CONFIG_PATHS };

/** Where to look for the config file. */
export interface DiscoverOptions {
  /** An explicit path (relative to `cwd`), or `false` to use no file at all. */
  readonly configFile?: string | false;
  /** The environment to read `RATE_SYNC_CONFIG` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The directory relative paths resolve against. @default process.cwd() */
  readonly cwd?: string;
}

/** A config file that was found, and why it was chosen. */
export interface DiscoveredConfigFile {
  /** Absolute path of the file. */
  readonly path: string;
  /** `option`: the `configFile` option; `env`: `RATE_SYNC_CONFIG`; `default`: a default location. */
  readonly source: 'option' | 'env' | 'default';
}

/**
 * Finds the config file: the `configFile` option, else `RATE_SYNC_CONFIG`, else
 * `./rate-sync.toml`, else `./config/rate-sync.toml`. Returns undefined when files are disabled
 * (`configFile: false`) or no default file exists.
 *
 * @throws ConfigValidationError when `configFile` or `RATE_SYNC_CONFIG` names a missing file:
 *   an explicit choice that cannot be honoured is never silently ignored.
 */
export function discoverConfigFile(
  options: DiscoverOptions = {},
): DiscoveredConfigFile | undefined {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.configFile === false) return undefined;
  if (options.configFile !== undefined) {
    return requireFile('configFile', options.configFile, cwd, 'option');
  }
  const fromEnv = env[CONFIG_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== '') {
    return requireFile(CONFIG_ENV_VAR, fromEnv, cwd, 'env');
  }
  for (const candidate of DEFAULT_CONFIG_PATHS) {
    const path = resolve(cwd, candidate);
    if (kindOf(path) === 'file') return { path, source: 'default' };
  }
  return undefined;
}

function requireFile(
  origin: string,
  given: string,
  cwd: string,
  source: DiscoveredConfigFile['source'],
): DiscoveredConfigFile {
  if (given.trim() === '') {
    throw new ConfigValidationError([
      { path: origin, message: 'expected a file path or false, got an empty string' },
    ]);
  }
  const path = isAbsolute(given) ? given : resolve(cwd, given);
  const kind = kindOf(path);
  if (kind === 'file') return { path, source };
  const what = kind === 'missing' ? 'does not exist' : 'is a directory, not a file';
  throw new ConfigValidationError([
    {
      path: origin,
      message:
        `config file ${path} ${what}. Fix the path, or ` +
        (source === 'env'
          ? `unset ${CONFIG_ENV_VAR} to use the default locations.`
          : 'pass configFile: false to use no file.'),
    },
  ]);
}

function kindOf(path: string): 'file' | 'directory' | 'missing' {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return 'missing';
  return stats.isDirectory() ? 'directory' : 'file';
}
