import { ConfigValidationError, type ConfigProblem } from '../../lib/core/errors';
import type { ConfigLayer } from '../../lib/core/config/config-layer';
import { validateConfig } from '../../lib/core/config/validate';

/** The problems of the `ConfigValidationError` that `fn` throws; fails the test otherwise. */
export function problemsThrownBy(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return [...(error as ConfigValidationError).problems];
  }
  throw new Error('expected a ConfigValidationError');
}

/** The problems of an invalid configuration, as `path: message` lines. */
export function problemsOf(layers: ConfigLayer | ConfigLayer[]): string[] {
  return problemsThrownBy(() => validateConfig(layers)).map((p) => `${p.path}: ${p.message}`);
}

/** A layer as read from `rate-sync.toml` (snake_case keys). */
export const toml = (data: unknown): ConfigLayer => ({ data, spelling: 'snake' });

/** A layer given in code (camelCase keys). */
export const inline = (data: unknown): ConfigLayer => ({ data, spelling: 'camel' });
