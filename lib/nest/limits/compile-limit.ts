import { InvalidArgumentError, type RateSync, type RateSyncLogger } from '../../core';
import type { KeySpec, RateLimitDeclaration } from '../decorators/rate-limit-options.interface';
import { keyFunctionResolver, type KeyResolver } from '../keys/key-resolver';
import { clientKey, compileKeyTemplate } from '../keys/key-template';
import type { DecisionLog } from '../decision-log';
import { CompiledLimit } from './compiled-limit';
import { SkipRule } from './skip-rule';

/**
 * `'handler'`: a route, resolver, gateway or message handler (request fields allowed; default
 * key: the client IP when there is an HTTP request). `'method'`: a provider method wrapped at
 * bootstrap (argument placeholders only; default: one shared bucket).
 */
export type LimitTarget = 'handler' | 'method';

/**
 * Validates a declaration against the configured limiters, plans its acquisition (a route is a
 * client's request: it waits only on the decorator's own `timeout`; a provider method is a
 * call) and compiles its keys. A tiered declaration (`among`, `pick`) gets one plan per
 * candidate, so that picking costs nothing per call.
 *
 * @throws LimiterNotFoundError naming the unknown id and listing the known ones
 * @throws InvalidArgumentError for a cost no limiter can admit, limiters on different stores,
 *   a cost function on a limit that only counts concurrency, `refundWhen` on limiters without a
 *   rate part, or a template that cannot apply
 */
export function compileLimit(
  declaration: RateLimitDeclaration,
  where: string,
  target: LimitTarget,
  rateSync: RateSync,
  logger: RateSyncLogger,
  decisionLog?: DecisionLog,
): CompiledLimit {
  const { limiterIds, options, pick } = declaration;
  const context = `in @RateLimit on ${where}`;
  const costFn = typeof options.cost === 'function' ? options.cost : undefined;
  const layerSets = pick ? limiterIds.map((id) => [id]) : [limiterIds];
  const plans = layerSets.map((ids) => {
    const plan = rateSync.plan(
      ids,
      {
        kind: target === 'handler' ? 'request' : 'call',
        mode: options.mode,
        timeout: options.timeout,
        cost: typeof options.cost === 'number' ? options.cost : undefined,
        strategy: options.strategy,
      },
      context,
    );
    const slotsOnly = plan.limiters.filter((l) => !l.policy.gcra && !l.policy.window);
    if (costFn && slotsOnly.length) {
      throw new InvalidArgumentError(
        'cost',
        `${slotsOnly.map((l) => l.id).join(', ')} only count concurrency slots (one per call), ` +
          `so a cost function cannot apply; give it a rate or a window (${context})`,
      );
    }
    if (options.refundWhen && plan.limiters.every((l) => !l.policy.gcra && !l.policy.window)) {
      throw new InvalidArgumentError(
        'refundWhen',
        `${ids.map((id) => `'${id}'`).join(', ')} only limit concurrency (max_concurrent), ` +
          `whose slots every call gives back anyway: there is nothing to refund. Remove refundWhen, ` +
          `or limit with rate_per_second or a sliding window (${context})`,
      );
    }
    return plan;
  });
  const resolvers = layerSets.map((ids) =>
    ids.map((id) => keyResolver(keySpecOf(options.key, id), target, context)),
  );
  if (options.skip && target === 'method') {
    throw new InvalidArgumentError(
      'skip',
      `skip applies to handlers, which have a request context; on a provider method, ` +
        `decide in the caller or call LimiterService.run() conditionally (${context})`,
    );
  }
  const skipRule = options.skip && new SkipRule(options.skip, 'The skip option of @RateLimit');
  return new CompiledLimit({
    where,
    options,
    plans,
    resolvers,
    pick,
    cost: costFn,
    rateSync,
    logger,
    decisionLog,
    skipRule,
  });
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
  if (typeof spec === 'function') return keyFunctionResolver(spec);
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
