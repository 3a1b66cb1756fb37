import type { ProblemLocation } from './problem-list';
import type { LineOf } from './toml-lines';

/**
 * One source of configuration: the TOML file or the inline module options. Layers are merged
 * in order, a later layer's keys replacing an earlier layer's, key by key.
 */
export interface ConfigLayer {
  /** `{ stores?, limiters?, fastapi? }`, after env interpolation. */
  readonly data: unknown;
  /**
   * `snake`: keys must be snake_case (a TOML file). `camel`: snake_case and camelCase are both
   * accepted (inline options), and messages name missing keys in camelCase.
   */
  readonly spelling: 'snake' | 'camel';
  /** The file the data came from. */
  readonly file?: string;
  /** The line of a key path in that file. */
  readonly lineOf?: LineOf;
  /**
   * The value at a key path as written, before env interpolation, when it holds a `${...}`
   * reference; undefined otherwise. Messages show it instead of the value, so a variable's
   * value (a token, a password) never appears in a problem.
   */
  readonly written?: (path: readonly string[]) => unknown;
}

/** A value as one layer spelled and gave it. */
export interface LayeredValue {
  /** The key as written (`rate_per_second` or `ratePerSecond`). */
  readonly key: string;
  readonly value: unknown;
  readonly layer: ConfigLayer;
}

/** Where `path` is, if `layer` is a file. */
export function locate(layer: ConfigLayer | undefined, path: readonly string[]): ProblemLocation {
  if (layer?.file === undefined) return {};
  return { file: layer.file, line: layer.lineOf?.(path) };
}
