import { InvalidArgumentError, type CompositeStrategy } from '../../core';
import type {
  RateLimitOptions,
  RateLimitTiers,
  TierFunction,
} from './rate-limit-options.interface';

const MODES = ['wait', 'try'];
const STRATEGIES: readonly CompositeStrategy[] = [
  'most_restrictive',
  'all_must_pass',
  'any_must_pass',
];
const OPTION_NAMES = ['key', 'timeout', 'cost', 'mode', 'strategy', 'skip', 'refundWhen'];

/**
 * Checks `@RateLimit`'s arguments when the decorator is applied, so that a mistake fails at
 * import time with the argument's name. Limiter ids and templates are checked at bootstrap.
 *
 * @returns the limiter ids as an array (the candidates of a tiered declaration), and its pick
 * @throws InvalidArgumentError naming the offending argument
 */
export function validateRateLimit(
  idOrIds: string | readonly string[] | RateLimitTiers,
  options: RateLimitOptions,
): { limiterIds: string[]; pick?: TierFunction } {
  const tiers = isTiers(idOrIds) ? idOrIds : undefined;
  const given: unknown = tiers ? tiers.among : idOrIds;
  const ids: unknown[] =
    typeof given === 'string' && !tiers ? [given] : Array.isArray(given) ? [...given] : [];
  const name = tiers ? 'among' : 'limiterId';
  const extra = tiers && Object.keys(tiers).find((k) => k !== 'among' && k !== 'pick');
  if (extra) {
    throw new InvalidArgumentError(
      extra,
      'unknown field of a tiered limit; expected { among, pick } (options go in the second argument)',
    );
  }
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || id === '')) {
    throw new InvalidArgumentError(
      name,
      tiers
        ? 'expected a non-empty array of limiter ids'
        : 'expected a limiter id, a non-empty array of ids, or { among, pick }',
    );
  }
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new InvalidArgumentError(tiers ? name : 'limiterIds', `'${dup}' is listed twice`);
  if (tiers && typeof tiers.pick !== 'function') {
    throw new InvalidArgumentError('pick', 'expected a function naming one of `among` per call');
  }
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
  if (
    cost !== undefined &&
    typeof cost !== 'function' &&
    (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 1)
  ) {
    throw new InvalidArgumentError(
      'cost',
      `expected an integer >= 1 or a function of the call, got ${String(cost)}`,
    );
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
  if (tiers && strategy !== undefined) {
    throw new InvalidArgumentError(
      'strategy',
      'a tiered limit (among, pick) takes one limiter per call; strategy combines several',
    );
  }
  if (options.skip !== undefined && typeof options.skip !== 'function') {
    throw new InvalidArgumentError('skip', 'expected a function (context) => boolean');
  }
  if (options.refundWhen !== undefined && typeof options.refundWhen !== 'function') {
    throw new InvalidArgumentError(
      'refundWhen',
      `expected a function ({ status, error }) => boolean, got ${typeof options.refundWhen}`,
    );
  }
  validateKey(options.key, ids as string[]);
  return { limiterIds: ids as string[], pick: tiers?.pick };
}

function isTiers(value: unknown): value is RateLimitTiers {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
