import type { LimiterOptions, StoreOptions } from '../options';
import { formatPath } from './config-path';
import type { ConfigLayer } from './config-layer';
import { configSourceOf } from './config-source';
import { discoverConfigFile } from './discover';
import { interpolateEnv, writtenWithReference } from './interpolate';
import { ProblemList } from './problem-list';
import { readTomlFile } from './read-toml';
import { indexTomlLines } from './toml-lines';
import { collectConfig, type ValidatedConfig } from './validate';

/** What {@link loadConfig} reads. */
export interface LoadConfigOptions {
  /** Path of the TOML file (relative to `cwd`), or `false` for none. @default discovery */
  readonly configFile?: string | false;
  /** Stores declared in code, merged over the file's key by key. camelCase or snake_case keys. */
  readonly stores?: Record<string, Partial<StoreOptions>>;
  /** Limiters declared in code, merged over the file's key by key. camelCase or snake_case keys. */
  readonly limiters?: Record<string, Partial<LimiterOptions>>;
  /** The environment for `RATE_SYNC_CONFIG` and `${VAR}` interpolation. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The directory relative paths resolve against. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Loads the configuration: finds the TOML file (`configFile`, else the file `RATE_SYNC_CONFIG`
 * names, else `./rate-sync.toml`, else `./config/rate-sync.toml`), parses it, interpolates
 * `${VAR}` / `${VAR:-default}` in its keys and values, merges the inline `stores` and
 * `limiters` over it (per id, key by key: an inline key replaces the file's, the file's other
 * keys stay), and validates the result.
 *
 * It is also the configuration check for tools (a CI step, a command line): it connects to
 * nothing, and either returns the normalized configuration or throws every problem at once.
 *
 * @throws ConfigValidationError listing every problem (interpolation and validation together),
 *   each with its path, file and line.
 */
export function loadConfig(options: LoadConfigOptions = {}): ValidatedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const found = discoverConfigFile({ configFile: options.configFile, env, cwd });
  const problems = new ProblemList();
  const layers: ConfigLayer[] = [];

  if (found) {
    const file = readTomlFile(found.path);
    const lineOfRaw = indexTomlLines(file.text);
    const interpolated = interpolateEnv(file.data, env, (rawPath, message) =>
      problems.add(formatPath(rawPath), message, { file: file.path, line: lineOfRaw(rawPath) }),
    );
    layers.push({
      data: interpolated.data,
      spelling: 'snake',
      file: file.path,
      lineOf: (path) => lineOfRaw(interpolated.rawPathOf(path)),
      written: (path) => writtenWithReference(file.data, interpolated.rawPathOf(path)),
    });
  }
  if (options.stores !== undefined || options.limiters !== undefined) {
    layers.push({
      data: { stores: options.stores, limiters: options.limiters },
      spelling: 'camel',
    });
  }

  const config = collectConfig(layers, problems);
  problems.throwIfAny();
  return { ...config, source: configSourceOf(found, options.configFile, cwd) };
}
