import { InvalidArgumentError, type RateSync, type RateSyncLogger } from '../../core';
import type { KeySpec, RateLimitDeclaration } from '../decorators/rate-limit-options.interface';
import { clientKey, compileKeyTemplate } from '../keys/key-template';
import type { DecisionLog } from '../decision-log';
import { CompiledLimit, type KeyResolver } from './compiled-limit';

/**
 * `'handler'`: a route, resolver, gateway or message handler (request fields allowed; default
 * key: the client IP when there is an HTTP request). `'method'`: a provider method wrapped at
 * bootstrap (argument placeholders only; default: one shared bucket).
 */
export type LimitTarget = 'handler' | 'method';

/**
 * Validates a declaration against the configured limiters, plans its acquisition (a route is a
 * client's request: it waits only on the decorator's own `timeout`; a provider method is a
 * call) and compiles its keys.
 *
 * @throws LimiterNotFoundError naming the unknown id and listing the known ones
 * @throws InvalidArgumentError for a cost no limiter can admit, limiters on different stores,
 *   a template that cannot apply here, or `refundWhen` on limiters without a rate part
 */
export function compileLimit(
  declaration: RateLimitDeclaration,
  where: string,
  target: LimitTarget,
  rateSync: RateSync,
  logger: RateSyncLogger,
  decisionLog?: DecisionLog,
): CompiledLimit {
  const { limiterIds, options } = declaration;
  const context = `in @RateLimit on ${where}`;
  const plan = rateSync.plan(
    limiterIds,
    {
      kind: target === 'handler' ? 'request' : 'call',
      mode: options.mode,
      timeout: options.timeout,
      cost: options.cost,
      strategy: options.strategy,
    },
    context,
  );
  if (options.refundWhen && plan.limiters.every((l) => !l.policy.gcra && !l.policy.window)) {
    throw new InvalidArgumentError(
      'refundWhen',
      `${limiterIds.map((id) => `'${id}'`).join(', ')} only limit concurrency (max_concurrent), ` +
        `whose slots every call gives back anyway: there is nothing to refund. Remove refundWhen, ` +
        `or limit with rate_per_second or a sliding window (${context})`,
    );
  }
  const resolvers = limiterIds.map((id) =>
    keyResolver(keySpecOf(options.key, id), target, context),
  );
  return new CompiledLimit({ where, options, plan, resolvers, rateSync, logger, decisionLog });
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
