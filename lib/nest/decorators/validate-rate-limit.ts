import { InvalidArgumentError, type CompositeStrategy } from '../../core';
import type { RateLimitOptions } from './rate-limit-options.interface';

const MODES = ['wait', 'try'];
const STRATEGIES: readonly CompositeStrategy[] = [
  'most_restrictive',
  'all_must_pass',
  'any_must_pass',
];
const OPTION_NAMES = ['key', 'timeout', 'cost', 'mode', 'strategy', 'refundWhen'];

/**
 * Checks `@RateLimit`'s arguments when the decorator is applied, so that a mistake fails at
 * import time with the argument's name. Limiter ids and templates are checked at bootstrap.
 *
 * @returns the limiter ids as an array
 * @throws InvalidArgumentError naming the offending argument
 */
export function validateRateLimit(
  idOrIds: string | readonly string[],
  options: RateLimitOptions,
): string[] {
  const ids = typeof idOrIds === 'string' ? [idOrIds] : Array.isArray(idOrIds) ? [...idOrIds] : [];
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || id === '')) {
    throw new InvalidArgumentError(
      'limiterId',
      'expected a limiter id or a non-empty array of ids',
    );
  }
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new InvalidArgumentError('limiterIds', `'${dup}' is listed twice`);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'expected an object');
  }
  const unknown = Object.keys(options).find((k) => !OPTION_NAMES.includes(k));
  if (unknown) {
    throw new InvalidArgumentError(
      unknown,
      `unknown option; expected one of ${OPTION_NAMES.join(', ')}`,
    );
  }
  const { timeout, cost, mode, strategy } = options;
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)
  ) {
    throw new InvalidArgumentError('timeout', `expected seconds >= 0, got ${String(timeout)}`);
  }
  if (cost !== undefined && (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 1)) {
    throw new InvalidArgumentError('cost', `expected an integer >= 1, got ${String(cost)}`);
  }
  if (mode !== undefined && !MODES.includes(mode)) {
    throw new InvalidArgumentError('mode', `expected 'wait' or 'try', got ${String(mode)}`);
  }
  if (strategy !== undefined && !STRATEGIES.includes(strategy)) {
    throw new InvalidArgumentError(
      'strategy',
      `expected one of ${STRATEGIES.join(', ')}, got ${String(strategy)}`,
    );
  }
  if (options.refundWhen !== undefined && typeof options.refundWhen !== 'function') {
    throw new InvalidArgumentError(
      'refundWhen',
      `expected a function ({ status, error }) => boolean, got ${typeof options.refundWhen}`,
    );
  }
  validateKey(options.key, ids);
  return ids;
}

function validateKey(key: RateLimitOptions['key'], ids: readonly string[]): void {
  if (key === undefined || key === false || typeof key === 'string' || typeof key === 'function') {
    return;
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new InvalidArgumentError(
      'key',
      'expected a template, a function, false, or an object per limiter id',
    );
  }
  for (const [id, spec] of Object.entries(key)) {
    if (!ids.includes(id)) {
      throw new InvalidArgumentError(
        `key.${id}`,
        `'${id}' is not one of this decorator's limiters (${ids.join(', ')})`,
      );
    }
    if (spec !== false && typeof spec !== 'string' && typeof spec !== 'function') {
      throw new InvalidArgumentError(`key.${id}`, 'expected a template, a function or false');
    }
  }
}
