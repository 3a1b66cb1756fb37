import { acquireLayers, type Acquired, type LayerSpec } from './acquisition';
import { systemClock, type Clock } from './clock';
import { combineResults, type CompositeStrategy } from './composite';
import { validateConfig } from './config';
import { createEngine } from './engines/create-engine';
import type { Engine } from './engines/engine';
import type { EngineContext } from './engines/engine-context';
import {
  InvalidArgumentError,
  LimiterNotFoundError,
  RateLimitExceededError,
  RateSyncError,
  StoreNotFoundError,
  StoreUnavailableError,
  StoreSetupError,
} from './errors';
import { errorText, Limiter } from './limiter';
import { describeLimiter, type LimiterInfo } from './limiter-info';
import { consoleLogger, type RateSyncLogger } from './logger';
import type { LimiterMetrics } from './metrics/limiter-metrics';
import type { LimiterOptions, RateSyncConfig } from './options';
import { Permit } from './permit';
import type { CompositeResult, LimiterState, RateLimitResult } from './result';
import { StoreHandle } from './store-handle';
import type { StoreHealth } from './store-probe';

/** Options of one acquisition. */
export interface AcquireOptions {
  /** The identifier counted (user id, IP, tenant...). Omitted: the limiter's global bucket. */
  key?: string;
  /** Seconds the call may wait. Defaults: the limiter's `timeout`, else unbounded (`acquire`) or 0 (`tryAcquire`). */
  timeout?: number;
  /** Units to take. @default 1 */
  cost?: number;
}

export interface RateSyncRuntimeOptions {
  /** Time source of the memory engine and of waits. @default systemClock */
  clock?: Clock;
  logger?: RateSyncLogger;
  /** Builds the engine of a store (advanced: custom engines, fault injection in tests). */
  createEngine?: (ctx: EngineContext) => Engine;
  /** Most limiters `getOrClone` keeps; the least recently used clone is dropped past it. @default 10_000 */
  maxClones?: number;
}

/**
 * The framework-free registry: stores (one engine each), limiters, and the whole programmatic
 * API. The Nest `LimiterService` delegates to one instance of it.
 */
export class RateSync {
  private readonly stores = new Map<string, StoreHandle>();
  private readonly limiters = new Map<string, Limiter>();
  /** Ids created by getOrClone, oldest use first. */
  private readonly clones = new Map<string, true>();
  private readonly clock: Clock;
  private readonly logger: RateSyncLogger;

  constructor(
    private readonly config: RateSyncConfig,
    private readonly runtime: RateSyncRuntimeOptions = {},
  ) {
    this.clock = runtime.clock ?? systemClock;
    this.logger = runtime.logger ?? consoleLogger;
    for (const [id, options] of Object.entries(config.stores)) {
      const ctx = { storeId: id, options, clock: this.clock, logger: this.logger };
      const engine = (runtime.createEngine ?? createEngine)(ctx);
      this.stores.set(id, new StoreHandle(id, options, engine, this.clock, this.logger));
    }
    for (const [id, options] of Object.entries(config.limiters)) this.addLimiter(id, options);
  }

  /**
   * Connects every store that a limiter uses. An unreachable store fails here when one of its
   * limiters is fail_closed; otherwise it is logged and its limiters fail open until it is back.
   * A store that answers but is unusable as configured ({@link StoreSetupError}) always fails.
   */
  async connect(): Promise<void> {
    const used = new Set([...this.limiters.values()].map((l) => l.store));
    await Promise.all(
      [...used].map(async (store) => {
        try {
          await store.engine.connect();
        } catch (err) {
          store.connectError = err;
          if (err instanceof StoreSetupError) throw err; // waiting will not fix it
          const closed = [...this.limiters.values()].filter(
            (l) => l.store === store && l.options.failClosed,
          );
          if (closed.length) {
            throw new StoreUnavailableError(store.id, closed[0].id, 0, err);
          }
          this.logger.warn(
            `rate-sync: store '${store.id}' is unreachable at startup (${errorText(err)}); its limiters fail open until it is back`,
          );
        }
      }),
    );
  }

  /** Releases the permits this process holds and closes every store. Idempotent. */
  async close(): Promise<void> {
    for (const limiter of this.limiters.values()) {
      for (const [leaseId, key] of limiter.heldLeases()) {
        if (!limiter.unhold(leaseId)) continue;
        await limiter.store.engine.release(limiter.policy, key, leaseId).catch(() => undefined);
      }
    }
    await Promise.all([...this.stores.values()].map((s) => s.engine.close()));
  }

  // --- lookup ---

  has(limiterId: string): boolean {
    return this.limiters.has(limiterId);
  }

  /** @throws LimiterNotFoundError listing the known ids */
  limiter(limiterId: string): Limiter {
    const limiter = this.limiters.get(limiterId);
    if (!limiter) throw new LimiterNotFoundError(limiterId, this.limiterIds());
    if (this.clones.has(limiterId)) {
      this.clones.delete(limiterId);
      this.clones.set(limiterId, true);
    }
    return limiter;
  }

  limiterIds(): string[] {
    return [...this.limiters.keys()];
  }

  // --- acquisition ---

  /** Waits up to the timeout, then throws {@link RateLimitExceededError}. */
  async acquire(limiterId: string, options: AcquireOptions = {}): Promise<Permit> {
    const { results, permit } = await this.layers([limiterId], options, Infinity, false);
    if (!permit) throw new RateLimitExceededError(results[0]);
    return permit;
  }

  /** Like {@link acquire} with a default timeout of 0; resolves to null when rejected. */
  async tryAcquire(limiterId: string, options: AcquireOptions = {}): Promise<Permit | null> {
    const now = this.decideNow(limiterId, options.key, options.timeout, options.cost, false);
    if (now) return now.allowed ? new Permit(now) : null;
    const { permit } = await this.layers([limiterId], options, 0, false, undefined, 0);
    return permit ?? null;
  }

  /** Acquires, runs `fn`, releases (also when `fn` throws). */
  async run<T>(
    limiterId: string,
    fn: () => Promise<T> | T,
    options: AcquireOptions = {},
  ): Promise<T> {
    const permit = await this.acquire(limiterId, options);
    try {
      return await fn();
    } finally {
      await permit.release();
    }
  }

  /**
   * One decision without waiting. `consume: false` decides without consuming anything.
   * A consumed concurrency slot of an allowed check is released at once (use acquire to hold one).
   */
  async check(
    limiterId: string,
    options: AcquireOptions & { consume?: boolean } = {},
  ): Promise<RateLimitResult> {
    const consume = options.consume ?? true;
    const now = this.decideNow(limiterId, options.key, options.timeout, options.cost, !consume);
    if (now) return now;
    const { results, permit } = await this.layers([limiterId], options, 0, !consume, undefined, 0);
    await permit?.release();
    return results[0];
  }

  /**
   * Composite decision over several limiters (DESIGN 3.6), without waiting unless a timeout is
   * given: nothing is consumed unless every layer allows (`most_restrictive`, `all_must_pass`),
   * or the first layer that allows is consumed (`any_must_pass`).
   */
  async checkAll(
    limiterIds: readonly string[],
    options: AcquireOptions & { strategy?: CompositeStrategy; consume?: boolean } = {},
  ): Promise<CompositeResult> {
    const { result, permit } = await this.acquireComposite(limiterIds, {
      ...options,
      timeout: options.timeout ?? 0,
    });
    await permit?.release();
    return result;
  }

  /** Composite acquisition returning a permit when admitted (the guard holds it). */
  async acquireComposite(
    limiterIds: readonly string[],
    options: AcquireOptions & {
      strategy?: CompositeStrategy;
      consume?: boolean;
      keys?: (string | undefined)[];
    } = {},
  ): Promise<{ result: CompositeResult; permit?: Permit }> {
    if (limiterIds.length === 0)
      throw new InvalidArgumentError('limiterIds', 'expected at least one limiter id');
    const strategy = options.strategy ?? 'most_restrictive';
    const dryRun = options.consume === false;
    if (limiterIds.length === 1) {
      const key = options.keys?.[0] ?? options.key;
      const now = this.decideNow(limiterIds[0], key, options.timeout, options.cost, dryRun);
      if (now) {
        const result = singleLayer(now);
        return { result, permit: now.allowed && !dryRun ? new Permit(now) : undefined };
      }
    }
    if (strategy === 'any_must_pass') {
      const tried: RateLimitResult[] = [];
      for (const [i, id] of limiterIds.entries()) {
        const key = options.keys?.[i] ?? options.key;
        const { results, permit } = await this.layers([id], { ...options, key }, 0, dryRun);
        tried.push(results[0]);
        if (results[0].allowed) return { result: combineResults(tried, strategy), permit };
      }
      return { result: combineResults(tried, strategy) };
    }
    const { results, permit } = await this.layers(limiterIds, options, 0, dryRun, options.keys);
    return { result: combineResults(results, strategy), permit };
  }

  /** Reads a key's state without consuming anything. */
  async state(limiterId: string, key?: string): Promise<LimiterState> {
    const limiter = this.limiter(limiterId);
    const request = limiter.request(limiter.keyOf(key), 1, 0, true);
    let decision;
    try {
      [decision] = await limiter.store.call((e) => e.acquire([request]));
    } catch (err) {
      throw new StoreUnavailableError(
        limiter.store.id,
        limiterId,
        limiter.store.breaker.retryAfterMs,
        err,
      );
    }
    return {
      limiterId,
      key: key ?? '',
      limit: decision.limit,
      remaining: decision.remaining,
      resetAt: decision.resetAt,
      inFlight: limiter.policy.concurrency ? decision.inFlight : undefined,
    };
  }

  /** Frees everything of one key, or of every key of the limiter. Held permits become no-ops. */
  async reset(limiterId: string, key?: string): Promise<void> {
    const limiter = this.limiter(limiterId);
    const storageKey = key === undefined ? undefined : limiter.keyOf(key);
    limiter.forgetBlocked(storageKey);
    try {
      await limiter.store.call((e) => e.reset(limiter.policy, storageKey));
    } catch (err) {
      throw new StoreUnavailableError(
        limiter.store.id,
        limiterId,
        limiter.store.breaker.retryAfterMs,
        err,
      );
    }
  }

  // --- registry ---

  /** Registers `newId` with the options of `sourceId` and the given overrides. */
  clone(sourceId: string, newId: string, overrides: Partial<LimiterOptions> = {}): Limiter {
    const source = this.limiter(sourceId);
    if (this.limiters.has(newId)) {
      throw new InvalidArgumentError('newId', `a limiter named '${newId}' already exists`);
    }
    const merged = { ...source.options, ...overrides };
    const valid = validateConfig({
      data: { stores: this.config.stores, limiters: { [newId]: merged } },
      spelling: 'camel',
    });
    return this.addLimiter(newId, valid.limiters[newId]);
  }

  /**
   * The limiter `${baseId}:${uniqueId}`, cloned from `baseId` on first use. At most `maxClones`
   * are kept (least recently used dropped; their state lives in the store, so a dropped clone
   * comes back with the same counts).
   */
  async getOrClone(baseId: string, uniqueId: string): Promise<Limiter> {
    const id = `${baseId}:${uniqueId}`;
    if (this.limiters.has(id)) return this.limiter(id);
    const limiter = this.clone(baseId, id);
    this.clones.set(id, true);
    const max = this.runtime.maxClones ?? 10_000;
    for (const oldest of this.clones.keys()) {
      if (this.clones.size <= max) break;
      if (this.limiters.get(oldest)?.heldLeases().length) continue;
      this.clones.delete(oldest);
      this.limiters.delete(oldest);
    }
    return limiter;
  }

  /** Every limiter's settings. Contains no secret. */
  list(): LimiterInfo[] {
    return [...this.limiters.values()].map(describeLimiter);
  }

  metrics(limiterId: string): LimiterMetrics {
    return this.limiter(limiterId).metrics.snapshot();
  }

  allMetrics(): LimiterMetrics[] {
    return [...this.limiters.values()].map((l) => l.metrics.snapshot());
  }

  /**
   * Per store: whether it answers a probe at most a second old (see {@link StoreHealth}), and
   * its circuit breaker's state. Probes run on demand, at most once a second per store.
   */
  health(): Promise<StoreHealth[]> {
    return Promise.all([...this.stores.values()].map((s) => s.health()));
  }

  // --- internals ---

  /**
   * The synchronous fast path of a single-layer call that may not wait (see
   * `Limiter.decideNow`), or undefined.
   */
  private decideNow(
    limiterId: string,
    key: string | undefined,
    timeout: number | undefined,
    cost = 1,
    dryRun: boolean,
  ): RateLimitResult | undefined {
    if (timeout !== undefined && timeout !== 0) return undefined;
    const limiter = this.limiter(limiterId);
    limiter.validateCost(cost);
    return limiter.decideNow(key, cost, dryRun);
  }

  private addLimiter(id: string, options: LimiterOptions): Limiter {
    const store = this.stores.get(options.store);
    if (!store) throw new StoreNotFoundError(options.store, [...this.stores.keys()]);
    const limiter = new Limiter(id, options, store, this.clock);
    this.limiters.set(id, limiter);
    return limiter;
  }

  private layers(
    limiterIds: readonly string[],
    options: AcquireOptions,
    defaultTimeout: number,
    dryRun: boolean,
    keys?: (string | undefined)[],
    /** The timeout when `options.timeout` is not given, before the limiter's own. */
    callDefault?: number,
  ): Promise<Acquired> {
    const layers: LayerSpec[] = limiterIds.map((id, i) => ({
      limiter: this.limiter(id),
      identifier: keys?.[i] ?? options.key,
    }));
    // A composite's checks cannot fail for one layer, the common case: skipped for it.
    if (layers.length > 1) checkComposite(limiterIds, layers);
    const cost = options.cost ?? 1;
    layers.forEach((l) => l.limiter.validateCost(cost));
    const seconds = options.timeout ?? callDefault ?? layers[0].limiter.options.timeout;
    const timeoutMs = seconds === undefined ? defaultTimeout : validTimeoutMs(seconds);
    return acquireLayers(layers, { timeoutMs, cost, dryRun }, this.clock);
  }
}

function validTimeoutMs(timeout: number): number {
  // Infinity is accepted and means no bound (a decorated service method's default wait).
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new InvalidArgumentError(
      'timeout',
      `expected a number of seconds >= 0 (Infinity: no bound), got ${String(timeout)}`,
    );
  }
  return timeout * 1000;
}

/** The composite view of a single layer's result, written out (spreads are slow here). */
function singleLayer(r: RateLimitResult): CompositeResult {
  return {
    allowed: r.allowed,
    limit: r.limit,
    remaining: r.remaining,
    resetAt: r.resetAt,
    retryAfterMs: r.retryAfterMs,
    limiterId: r.limiterId,
    key: r.key,
    blockedBy: r.blockedBy,
    failedOpen: r.failedOpen,
    waitedMs: r.waitedMs,
    layers: [r],
    blockingLimiterId: r.allowed ? undefined : r.limiterId,
  };
}

/** A composite's layers must share one store and name each (limiter, key) once. */
function checkComposite(limiterIds: readonly string[], layers: readonly LayerSpec[]): void {
  const stores = new Set(layers.map((l) => l.limiter.store));
  if (stores.size > 1) {
    throw new RateSyncError(
      `Composite limits must share one store; ${limiterIds.join(', ')} use ${[...stores].map((s) => `'${s.id}'`).join(', ')}`,
    );
  }
  const keysSeen = new Set(layers.map((l) => l.limiter.keyOf(l.identifier)));
  if (keysSeen.size < layers.length) {
    throw new InvalidArgumentError(
      'limiterIds',
      `the same limiter and key appear twice in one composite (${limiterIds.join(', ')})`,
    );
  }
}
