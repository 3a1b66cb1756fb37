import type { CompositeStrategy } from './composite';
import { InvalidArgumentError } from './errors';
import type { Limiter } from './limiter';
import { storeFailurePolicy } from './options';
import type { StoreHandle } from './store-handle';

/**
 * Who is asking, which decides how long a call may wait when it does not say:
 * - `'request'`: a client's request (HTTP, GraphQL, WebSocket, RPC). It waits only when its own
 *   declaration gives a `timeout`; a limiter's `timeout` never holds a request open.
 * - `'call'`: a provider method or a `LimiterService` call. It waits up to its own timeout,
 *   else the limiter's `timeout`, else as long as it takes.
 */
export type CallKind = 'request' | 'call';

/** What a caller says about one kind of acquisition; {@link planAcquisition} checks it once. */
export interface PlanOptions {
  readonly kind: CallKind;
  /** `'try'`: no waiting unless `timeout` is given here. @default 'wait' */
  readonly mode?: 'wait' | 'try';
  /** Seconds this call allows itself (a call option or the decorator's). `Infinity`: no bound. */
  readonly timeout?: number;
  /** Units to take on every layer. @default 1 */
  readonly cost?: number;
  /** Decide without consuming anything. @default false */
  readonly dryRun?: boolean;
  /** How several layers combine. @default 'most_restrictive' */
  readonly strategy?: CompositeStrategy;
}

/**
 * One acquisition, planned and validated: the layers (one limiter each, all on one store), the
 * cost, how long it may wait, whether it consumes, and how layers combine. Built once per call
 * by `LimiterService`, and once per declaration at bootstrap for `@RateLimit`; run with the
 * identifiers of each call.
 */
export interface AcquisitionPlan {
  readonly limiters: readonly Limiter[];
  readonly store: StoreHandle;
  readonly cost: number;
  /** The largest cost every layer can ever admit (a per-call cost is checked against it). */
  readonly maxCost: number;
  /** Milliseconds the call may wait (0: none; Infinity: no bound). */
  readonly waitMs: number;
  readonly dryRun: boolean;
  readonly strategy: CompositeStrategy;
  /**
   * Whether some layer's `on_store_failure` is `local`: the plan then runs in degraded mode
   * while its store is down (computed once: the hot path reads one flag).
   */
  readonly local: boolean;
}

/**
 * Builds the plan of an acquisition over `limiters`: the one place that applies the waiting
 * rule and checks a composite's store, the cost and the timeout.
 *
 * @param context appended to error messages (`in @RateLimit on AuthController.login`)
 * @throws InvalidArgumentError naming `limiterIds`, `cost` or `timeout`
 */
export function planAcquisition(
  limiters: readonly Limiter[],
  options: PlanOptions,
  context?: string,
): AcquisitionPlan {
  const where = context ? ` (${context})` : '';
  if (limiters.length === 0) {
    throw new InvalidArgumentError('limiterIds', `expected at least one limiter id${where}`);
  }
  const store = limiters[0].store;
  if (limiters.some((l) => l.store !== store)) {
    const stores = [...new Set(limiters.map((l) => `'${l.store.id}'`))].join(', ');
    throw new InvalidArgumentError(
      'limiterIds',
      `${limiters.map((l) => l.id).join(', ')} use different stores (${stores}); the layers of a composite limit must share one store${where}`,
    );
  }
  const cost = options.cost ?? 1;
  for (const limiter of limiters) {
    try {
      limiter.validateCost(cost);
    } catch (err) {
      throw where ? new InvalidArgumentError('cost', `${(err as Error).message}${where}`) : err;
    }
  }
  return {
    limiters,
    store,
    cost,
    maxCost: Math.min(...limiters.map((l) => l.maxCost)),
    waitMs: waitBoundMs(options, limiters),
    dryRun: options.dryRun ?? false,
    strategy: options.strategy ?? 'most_restrictive',
    local: limiters.some((l) => storeFailurePolicy(l.options) === 'local'),
  };
}

/**
 * How long a call may wait, in milliseconds: its own timeout; else nothing for a client's
 * request or a `'try'` call; else the shortest `timeout` of its limiters; else no bound.
 */
function waitBoundMs(options: PlanOptions, limiters: readonly Limiter[]): number {
  if (options.timeout !== undefined) return timeoutMs(options.timeout);
  if (options.kind === 'request' || options.mode === 'try') return 0;
  let configured: number | undefined;
  for (const { options: o } of limiters) {
    if (o.timeout !== undefined) configured = Math.min(configured ?? Infinity, o.timeout);
  }
  return configured === undefined ? Number.POSITIVE_INFINITY : configured * 1000;
}

function timeoutMs(timeout: number): number {
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new InvalidArgumentError(
      'timeout',
      `expected a number of seconds >= 0 (Infinity: no bound), got ${String(timeout)}`,
    );
  }
  return timeout * 1000;
}
