import {
  InvalidArgumentError,
  LimiterNotFoundError,
  type RateSync,
  type RateSyncLogger,
} from '../../core';
import type { KeySpec, RateLimitDeclaration } from '../decorators/rate-limit-options.interface';
import { clientKey, compileKeyTemplate } from '../keys/key-template';
import { CompiledLimit, type KeyResolver } from './compiled-limit';

/**
 * `'handler'`: a route, resolver, gateway or message handler (request fields allowed; default
 * key: the client IP when there is an HTTP request). `'method'`: a provider method wrapped at
 * bootstrap (argument placeholders only; default: one shared bucket).
 */
export type LimitTarget = 'handler' | 'method';

/**
 * Validates a declaration against the configured limiters and compiles its keys.
 *
 * @throws LimiterNotFoundError naming the unknown id and listing the known ones
 * @throws InvalidArgumentError for a cost no limiter can admit, limiters on different stores,
 *   or a template that cannot apply here
 */
export function compileLimit(
  declaration: RateLimitDeclaration,
  where: string,
  target: LimitTarget,
  rateSync: RateSync,
  logger: RateSyncLogger,
): CompiledLimit {
  const { limiterIds, options } = declaration;
  const context = `in @RateLimit on ${where}`;
  for (const id of limiterIds) {
    if (!rateSync.has(id)) throw new LimiterNotFoundError(id, rateSync.limiterIds(), context);
  }
  const limiters = limiterIds.map((id) => rateSync.limiter(id));
  const stores = new Set(limiters.map((l) => l.options.store));
  if (stores.size > 1) {
    throw new InvalidArgumentError(
      'limiterIds',
      `${limiterIds.join(', ')} use different stores (${[...stores].join(', ')}); a composite limit needs one store (${context})`,
    );
  }
  for (const limiter of limiters) {
    try {
      limiter.validateCost(options.cost ?? 1);
    } catch (err) {
      throw new InvalidArgumentError('cost', `${(err as Error).message} (${context})`);
    }
  }
  const resolvers = limiterIds.map((id) =>
    keyResolver(keySpecOf(options.key, id), target, context),
  );
  return new CompiledLimit(
    where,
    limiterIds,
    options,
    resolvers,
    limiters[0].options.timeout,
    rateSync,
    logger,
  );
}

function keySpecOf(key: RateLimitDeclaration['options']['key'], id: string): KeySpec | undefined {
  if (key === undefined || key === false || typeof key === 'string' || typeof key === 'function') {
    return key;
  }
  return key[id];
}

function keyResolver(spec: KeySpec | undefined, target: LimitTarget, context: string): KeyResolver {
  if (spec === undefined) {
    return target === 'handler'
      ? (source) => ({ key: source.request ? clientKey(source) : undefined })
      : () => ({ key: undefined });
  }
  if (spec === false) return () => ({ key: undefined });
  if (typeof spec === 'function') return (source) => ({ key: spec(source.context) || undefined });
  const template = compileKeyTemplate(spec, context);
  if (target === 'method' && template.readsRequest) {
    throw new InvalidArgumentError(
      'key',
      `'${spec}' reads the HTTP request, which a provider method does not have; ` +
        `use argument placeholders such as {0} or {1.tenantId} (${context})`,
    );
  }
  return (source) => template.render(source);
}
