import { runPlan, type Acquired } from './acquisition';
import { letShadowThrough } from './shadow';
import { planAcquisition, type AcquisitionPlan, type PlanOptions } from './acquisition-plan';
import { systemClock, type Clock } from './clock';
import { combineResults, type CompositeStrategy } from './composite';
import { validateConfig } from './config';
import type { ConfigSource } from './config/config-source';
import { createEngine } from './engines/create-engine';
import type { Engine } from './engines/engine';
import type { EngineContext } from './engines/engine-context';
import { errorText } from './error-text';
import {
  InvalidArgumentError,
  LimiterNotFoundError,
  RateLimitExceededError,
  StoreNotFoundError,
  StoreUnavailableError,
  StoreSetupError,
} from './errors';
import { escapeKeyPart } from './keys';
import { Limiter, type DecidedNow } from './limiter';
import { describeLimiter, type LimiterInfo } from './limiter-info';
import { consoleLogger, type RateSyncLogger } from './logger';
import type { LimiterMetrics } from './metrics/limiter-metrics';
import { MetricsObservers, type MetricsObserver } from './metrics/metrics-observer';
import type { MetricsGauges } from './metrics/metrics-gauges';
import { storeFailurePolicy, type LimiterOptions, type RateSyncConfig } from './options';
import type { LimiterPolicy } from './policy';
import type { Permit } from './permit';
import type { CompositeResult, LimiterState, RateLimitResult } from './result';
import { StoreHandle } from './store-handle';
import { storeFailure } from './store-failure';
import type { StoreHealth } from './store-probe';

/** Options of one acquisition. */
export interface AcquireOptions {
  /** The identifier counted (user id, IP, tenant...). Omitted: the limiter's global bucket. */
  key?: string;
  /**
   * Seconds the call may wait (`Infinity`: no bound). Default: `acquire` and `run` wait up to
   * the limiter's `timeout`, else as long as it takes; `tryAcquire`, `check` and `checkAll` do
   * not wait.
   */
  timeout?: number;
  /** Units to take. @default 1 */
  cost?: number;
  /**
   * Cancels the call while it waits (`acquire`, `tryAcquire` and `run`): it is rejected with
   * {@link RateLimitExceededError} (`tryAcquire`: null), and a slot it had reserved is given
   * back at once, so the next caller does not wait behind it. No effect once admitted.
   */
  signal?: AbortSignal;
  // A new field that changes the plan must also be checked by `RateSync.tryPlan`, which
  // reuses one plan per limiter when `timeout` and `cost` are left at their defaults.
}

export interface RateSyncRuntimeOptions {
  /** Time source of the memory engine and of waits. @default systemClock */
  clock?: Clock;
  logger?: RateSyncLogger;
  /** Builds the engine of a store (advanced: custom engines, fault injection in tests). */
  createEngine?: (ctx: EngineContext) => Engine;
  /** Most limiters `getOrClone` keeps; the least recently used clone is dropped past it. @default 10_000 */
  maxClones?: number;
  /** `false`: every limiter in shadow mode (see {@link LimiterOptions.enforce}). @default true */
  enforce?: boolean;
}

/** Options of a composite decision (`LimiterService.checkAll`). */
export interface CheckAllOptions extends AcquireOptions {
  /** How the layers combine. @default 'most_restrictive' */
  strategy?: CompositeStrategy;
  /** `false`: decide without consuming anything. @default true */
  consume?: boolean;
  /**
   * The identifier counted by each limiter, by limiter id (`{ auth_ip: ip, auth_account: email
   * }`); a limiter not named here counts `key`.
   */
  keys?: Readonly<Record<string, string | undefined>>;
}

/** What an acquisition over one or more limiters decided, and its permit when admitted. */
export interface PlanOutcome {
  readonly result: CompositeResult;
  readonly permit?: Permit;
}

/**
 * The framework-free registry: stores (one engine each), limiters, and the whole programmatic
 * API. The Nest `LimiterService` delegates to one instance of it.
 */
export class RateSync {
  private readonly stores = new Map<string, StoreHandle>();
  private readonly limiters = new Map<string, Limiter>();
  /** Ids created by getOrClone (oldest use first), with the id they were cloned from. */
  private readonly clones = new Map<string, string>();
  /** The overrides each getOrClone clone was made with, written canonically (for comparison). */
  private readonly cloneOverrides = new Map<string, string>();
  private readonly clock: Clock;
  private readonly logger: RateSyncLogger;
  private readonly observers = new MetricsObservers();
  /** Whether some limiter is in shadow mode (else rejections are never let through). */
  private shadowing = false;
  /** Plans of `tryAcquire` / `check` with the usual options, per limiter (see `tryPlan`). */
  private readonly tryPlans = new WeakMap<Limiter, AcquisitionPlan>();
  private readonly dryRunPlans = new WeakMap<Limiter, AcquisitionPlan>();

  constructor(
    private readonly config: RateSyncConfig,
    private readonly runtime: RateSyncRuntimeOptions = {},
  ) {
    this.clock = runtime.clock ?? systemClock;
    this.logger = runtime.logger ?? consoleLogger;
    for (const [id, options] of Object.entries(config.stores)) {
      const ctx = { storeId: id, options, clock: this.clock, logger: this.logger };
      const engine = (runtime.createEngine ?? createEngine)(ctx);
      this.stores.set(
        id,
        new StoreHandle(id, options, engine, this.clock, this.logger, this.observers),
      );
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
          await store.connect();
        } catch (err) {
          if (err instanceof StoreSetupError) throw err; // waiting will not fix it
          const closed = [...this.limiters.values()].find(
            (l) => l.store === store && storeFailurePolicy(l.options) === 'closed',
          );
          if (closed) throw new StoreUnavailableError(store.id, closed.id, 0, err);
          this.logger.warn(
            `rate-sync: store '${store.id}' is unreachable at startup (${errorText(err)}); its limiters fail open (or decide locally: on_store_failure = "local") until it is back`,
          );
        }
      }),
    );
  }

  /** Releases the permits this process holds and closes every store. Idempotent. */
  async close(): Promise<void> {
    await Promise.all([...this.limiters.values()].map((l) => l.leases.releaseAll()));
    await Promise.all([...this.stores.values()].map((s) => s.close()));
  }

  // --- lookup ---

  has(limiterId: string): boolean {
    return this.limiters.has(limiterId);
  }

  /**
   * The runtime limiter of an id, without counting it as a use (tests, introspection).
   * @throws LimiterNotFoundError listing the known ids
   */
  limiter(limiterId: string): Limiter {
    const limiter = this.limiters.get(limiterId);
    if (!limiter) {
      throw new LimiterNotFoundError(limiterId, this.limiterIds(), undefined, this.config.source);
    }
    return limiter;
  }

  /** The compiled policy of a limiter id, or undefined; a pure lookup. */
  policy(limiterId: string): LimiterPolicy | undefined {
    return this.limiters.get(limiterId)?.policy;
  }

  /** Where the configuration came from (the file, or where none was found), when known. */
  get configSource(): ConfigSource | undefined {
    return this.config.source;
  }

  limiterIds(): string[] {
    return [...this.limiters.keys()];
  }

  // --- acquisition ---

  /**
   * Plans an acquisition over `limiterIds` (see {@link planAcquisition}); the plan can run many
   * times with different identifiers.
   *
   * @param context appended to error messages (`in @RateLimit on AuthController.login`)
   * @throws LimiterNotFoundError naming the unknown id and the known ones
   * @throws InvalidArgumentError for layers on different stores, a bad cost or timeout
   */
  plan(limiterIds: readonly string[], options: PlanOptions, context?: string): AcquisitionPlan {
    const limiters = limiterIds.map((id) => this.use(id, context));
    return planAcquisition(limiters, options, context);
  }

  /**
   * Runs a plan with one identifier per layer (undefined: the limiter's shared bucket).
   * `signal` cancels a call that is still waiting.
   * @throws StoreUnavailableError when a fail_closed limiter's store cannot decide
   */
  execute(
    plan: AcquisitionPlan,
    identifiers: readonly (string | undefined)[],
    signal?: AbortSignal,
  ): Promise<PlanOutcome> {
    if (plan.strategy === 'any_must_pass' && plan.limiters.length > 1) {
      return this.firstThatPasses(plan, identifiers, signal);
    }
    const now = this.executeNow(plan, identifiers);
    if (now) return Promise.resolve(now);
    return this.runLayers(plan, identifiers, signal).then(({ results, permit }) => ({
      result: combineResults(results, plan.strategy),
      permit,
    }));
  }

  /**
   * {@link RateSync.execute} when the plan is decided at once, without a promise (one layer on
   * an in-process engine that may not wait); undefined when it needs the general path.
   * @internal For the guard's synchronous path.
   */
  executeNow(
    plan: AcquisitionPlan,
    identifiers: readonly (string | undefined)[],
  ): PlanOutcome | undefined {
    if (plan.strategy === 'any_must_pass' && plan.limiters.length > 1) return undefined;
    const now = this.decideAtOnce(plan, identifiers[0]);
    if (!now) return undefined;
    return { result: combineResults(now.results, plan.strategy), permit: now.permit };
  }

  /** Waits up to the timeout, then throws {@link RateLimitExceededError}. */
  async acquire(limiterId: string, options: AcquireOptions = {}): Promise<Permit> {
    const { signal, ...rest } = options;
    const plan = this.plan([limiterId], { kind: 'call', ...rest });
    const { results, permit } = await this.runLayers(plan, [options.key], signal);
    if (!permit) throw new RateLimitExceededError(results[0]);
    return permit;
  }

  /** Like {@link acquire} with no waiting unless a timeout is given; null when rejected. */
  tryAcquire(limiterId: string, options: AcquireOptions = {}): Promise<Permit | null> {
    let plan: AcquisitionPlan;
    try {
      plan = this.tryPlan(limiterId, options, false);
    } catch (err) {
      return Promise.reject(err);
    }
    // Not async: a decision taken at once resolves in one hop, not three.
    const now = this.decideOneNow(plan, options.key);
    if (now) return Promise.resolve(now.permit ?? null);
    return this.runPlanned(plan, [options.key], options.signal).then(permitOrNull);
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
   * One decision without waiting (unless a timeout is given). `consume: false` decides without
   * consuming anything. A concurrency slot taken by an allowed check is released at once (use
   * acquire to hold one).
   */
  check(
    limiterId: string,
    options: AcquireOptions & { consume?: boolean } = {},
  ): Promise<RateLimitResult> {
    const dryRun = options.consume === false;
    let plan: AcquisitionPlan;
    try {
      plan = this.tryPlan(limiterId, options, dryRun);
    } catch (err) {
      return Promise.reject(err);
    }
    // A decision taken at once holds no concurrency slot: nothing to release.
    const now = this.decideOneNow(plan, options.key);
    if (now) return Promise.resolve(now.result);
    return this.checkLater(plan, options.key);
  }

  private async checkLater(plan: AcquisitionPlan, key?: string): Promise<RateLimitResult> {
    const { results, permit } = await this.runPlanned(plan, [key]);
    await permit?.release();
    return results[0];
  }

  /**
   * Composite decision over several limiters (DESIGN 3.6), without waiting unless a timeout is
   * given: nothing is consumed unless every layer allows (`most_restrictive`, `all_must_pass`),
   * or the first layer that allows is consumed (`any_must_pass`). Each layer counts its own
   * identifier from `keys`, else `key`. A concurrency slot taken is released at once.
   */
  async checkAll(
    limiterIds: readonly string[],
    options: CheckAllOptions = {},
  ): Promise<CompositeResult> {
    const { keys, consume, ...rest } = options;
    if (keys !== undefined) checkKeysNameLayers(keys, limiterIds);
    const plan = this.plan(limiterIds, {
      kind: 'call',
      mode: 'try',
      dryRun: consume === false,
      ...rest,
    });
    const identifiers = limiterIds.map((id) => (keys && id in keys ? keys[id] : options.key));
    const { result, permit } = await this.execute(plan, identifiers);
    await permit?.release();
    return result;
  }

  /** Reads a key's state without consuming anything. */
  async state(limiterId: string, key?: string): Promise<LimiterState> {
    const limiter = this.use(limiterId);
    const request = limiter.request(limiter.keyOf(key), 1, 0, true);
    const [decision] = await this.storeCall(limiter, (e) => e.acquire([request]));
    return {
      limiterId,
      key: key ?? '',
      limit: decision.limit,
      remaining: decision.remaining,
      resetAt: decision.resetAt,
      now: decision.now,
      inFlight: limiter.policy.concurrency ? decision.inFlight : undefined,
    };
  }

  /** Frees everything of one key, or of every key of the limiter. Held permits become no-ops. */
  async reset(limiterId: string, key?: string): Promise<void> {
    const limiter = this.use(limiterId);
    const storageKey = key === undefined ? undefined : limiter.keyOf(key);
    limiter.forgetBlocked(storageKey);
    await this.storeCall(limiter, (e) => e.reset(limiter.policy, storageKey));
  }

  // --- registry ---

  /** Registers `newId` with the options of `sourceId` and the given overrides. */
  clone(sourceId: string, newId: string, overrides: Partial<LimiterOptions> = {}): LimiterInfo {
    return describeLimiter(this.addClone(sourceId, newId, overrides));
  }

  /**
   * The limiter `${baseId}:${uniqueId}` (the unique id escaped as identifiers are, so distinct
   * pairs never share a limiter), cloned from `baseId` with `overrides` on first use (a
   * customer's contract rate). Called again with other overrides, the clone is rebuilt with them
   * (its counts live in the store and carry over); invalid overrides throw and leave the clone
   * as it was. At most `maxClones` are kept (least recently used dropped; a dropped clone comes
   * back with the same counts).
   * @throws ConfigValidationError naming the bad override
   */
  async getOrClone(
    baseId: string,
    uniqueId: string,
    overrides: Partial<LimiterOptions> = {},
  ): Promise<LimiterInfo> {
    const id = `${baseId}:${escapeKeyPart(uniqueId)}`;
    const wanted = canonicalOverrides(overrides);
    const existing = this.limiters.get(id);
    if (existing) {
      if (this.clones.get(id) !== baseId) {
        throw new InvalidArgumentError(
          'uniqueId',
          `'${id}' is a configured limiter, not a clone of '${baseId}'; choose another id`,
        );
      }
      this.use(id);
      if (this.cloneOverrides.get(id) === wanted) return describeLimiter(existing);
      this.limiters.delete(id);
    }
    let limiter: Limiter;
    try {
      limiter = this.addClone(baseId, id, overrides, this.use(baseId).labelId);
    } catch (err) {
      if (existing) this.limiters.set(id, existing);
      throw err;
    }
    this.clones.set(id, baseId);
    this.cloneOverrides.set(id, wanted);
    const max = this.runtime.maxClones ?? 10_000;
    for (const oldest of this.clones.keys()) {
      if (this.clones.size <= max) break;
      if (this.limiters.get(oldest)?.leases.size) continue;
      this.clones.delete(oldest);
      this.cloneOverrides.delete(oldest);
      this.limiters.delete(oldest);
    }
    return describeLimiter(limiter);
  }

  /** Every limiter's settings. Contains no secret. */
  list(): LimiterInfo[] {
    return [...this.limiters.values()].map(describeLimiter);
  }

  metrics(limiterId: string): LimiterMetrics {
    return this.use(limiterId).metrics.snapshot();
  }

  allMetrics(): LimiterMetrics[] {
    return [...this.limiters.values()].map((l) => l.metrics.snapshot());
  }

  /**
   * Attaches a metrics exporter: it hears every decision, decision latency and store failure
   * from now on. Returns the function that detaches it.
   */
  observe(observer: MetricsObserver): () => void {
    return this.observers.add(observer);
  }

  /**
   * What exporters read at scrape time: slots held by this process per limiter (clones folded
   * into their base id), each store's breaker state and whether it is in degraded mode.
   */
  gauges(): MetricsGauges {
    const slots = new Map<string, { limiter: string; store: string; held: number }>();
    for (const l of this.limiters.values()) {
      if (!l.policy.concurrency) continue;
      const entry = slots.get(l.labelId);
      if (entry) entry.held += l.leases.size;
      else slots.set(l.labelId, { limiter: l.labelId, store: l.store.id, held: l.leases.size });
    }
    const stores = [...this.stores.values()];
    const breakers = stores.map((s) => ({ store: s.id, state: s.breaker.state }));
    const degraded = stores.map((s) => ({
      store: s.id,
      seconds: s.degraded.active ? (s.degraded.state?.durationMs ?? 0) / 1000 : undefined,
    }));
    return { slots: [...slots.values()], breakers, degraded };
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
   * The limiter of an id, for a use: a clone becomes the most recently used.
   * @throws LimiterNotFoundError listing the known ids
   */
  private use(limiterId: string, context?: string): Limiter {
    const limiter = this.limiters.get(limiterId);
    if (!limiter) {
      throw new LimiterNotFoundError(limiterId, this.limiterIds(), context, this.config.source);
    }
    if (this.clones.size === 0) return limiter;
    const base = this.clones.get(limiterId);
    if (base !== undefined) {
      this.clones.delete(limiterId);
      this.clones.set(limiterId, base);
    }
    return limiter;
  }

  /** One plan's layers, with the synchronous fast path of a single layer that may not wait. */
  private runLayers(
    plan: AcquisitionPlan,
    identifiers: readonly (string | undefined)[],
    signal?: AbortSignal,
  ): Promise<Acquired> {
    const now = this.decideAtOnce(plan, identifiers[0]);
    if (now) return Promise.resolve(now);
    return this.runPlanned(plan, identifiers, signal);
  }

  /** {@link runLayers} once the synchronous fast path declined (`tryAcquire`, `check`). */
  private runPlanned(
    plan: AcquisitionPlan,
    identifiers: readonly (string | undefined)[],
    signal?: AbortSignal,
  ): Promise<Acquired> {
    const acquired = runPlan(plan, identifiers, this.clock, signal);
    return this.shadowing ? acquired.then((a) => letShadowThrough(plan, a)) : acquired;
  }

  /**
   * The plan of a `tryAcquire` or `check` call: built once per limiter for the usual options
   * (no timeout, cost 1), since planning allocates and validates what never changes.
   */
  private tryPlan(limiterId: string, options: AcquireOptions, dryRun: boolean): AcquisitionPlan {
    if (options.timeout !== undefined || (options.cost !== undefined && options.cost !== 1)) {
      const { signal: _signal, ...rest } = options;
      return this.plan([limiterId], { kind: 'call', mode: 'try', dryRun, ...rest });
    }
    const limiter = this.use(limiterId);
    const plans = dryRun ? this.dryRunPlans : this.tryPlans;
    let plan = plans.get(limiter);
    if (!plan)
      plans.set(
        limiter,
        (plan = planAcquisition([limiter], { kind: 'call', mode: 'try', dryRun })),
      );
    return plan;
  }

  /**
   * The synchronous fast path: a single layer that may not wait, decided without a promise
   * (see `Limiter.decideNow`); undefined when the plan needs the general path.
   */
  private decideAtOnce(
    plan: AcquisitionPlan,
    identifier: string | undefined,
  ): Acquired | undefined {
    const now = this.decideOneNow(plan, identifier);
    return now && { results: [now.result], permit: now.permit };
  }

  /**
   * {@link decideAtOnce} as one result and its permit, without the arrays (`tryAcquire` and
   * `check` need no more). A rejection goes through shadow mode when some limiter is in it.
   */
  private decideOneNow(
    plan: AcquisitionPlan,
    identifier: string | undefined,
  ): DecidedNow | undefined {
    if (plan.limiters.length !== 1 || plan.waitMs !== 0) return undefined;
    const now = plan.limiters[0].decideNow(identifier, plan.cost, plan.dryRun);
    if (!now || now.permit || !this.shadowing) return now;
    const { results, permit } = letShadowThrough(plan, { results: [now.result] });
    return { result: results[0], permit };
  }

  /** `any_must_pass`: the layers one at a time; the first that allows is consumed. */
  private async firstThatPasses(
    plan: AcquisitionPlan,
    identifiers: readonly (string | undefined)[],
    signal?: AbortSignal,
  ): Promise<PlanOutcome> {
    const tried: RateLimitResult[] = [];
    for (const [i, limiter] of plan.limiters.entries()) {
      const layer = { ...plan, limiters: [limiter] };
      const { results, permit } = await this.runLayers(layer, [identifiers[i]], signal);
      tried.push(results[0]);
      if (results[0].allowed) return { result: combineResults(tried, plan.strategy), permit };
    }
    return { result: combineResults(tried, plan.strategy) };
  }

  /**
   * A store call outside an acquisition: an outage is a {@link StoreUnavailableError}, a failure
   * of the call's own data a plain error naming the limiter.
   */
  private async storeCall<T>(limiter: Limiter, fn: (engine: Engine) => Promise<T>): Promise<T> {
    try {
      return await limiter.store.call(fn);
    } catch (err) {
      throw storeFailure(limiter.store, limiter.id, err);
    }
  }

  private addClone(
    sourceId: string,
    newId: string,
    overrides: Partial<LimiterOptions>,
    labelId?: string,
  ): Limiter {
    const source = this.use(sourceId);
    if (this.limiters.has(newId)) {
      throw new InvalidArgumentError('newId', `a limiter named '${newId}' already exists`);
    }
    const merged = { ...source.options, ...overrides };
    const valid = validateConfig({
      data: { stores: this.config.stores, limiters: { [newId]: merged } },
      spelling: 'camel',
    });
    return this.addLimiter(newId, valid.limiters[newId], labelId);
  }

  private addLimiter(id: string, options: LimiterOptions, labelId?: string): Limiter {
    const store = this.stores.get(options.store);
    if (!store) throw new StoreNotFoundError(options.store, [...this.stores.keys()]);
    const enforce = this.runtime.enforce === false ? { ...options, enforce: false } : options;
    const limiter = new Limiter(id, enforce, store, this.clock, labelId);
    if (!limiter.enforced) this.shadowing = true;
    this.limiters.set(id, limiter);
    return limiter;
  }
}

/** `tryAcquire`'s answer: the permit, or null when rejected (a function made once). */
function permitOrNull({ permit }: Acquired): Permit | null {
  return permit ?? null;
}

/** Every id named in a composite's `keys` is one of its layers (a typo would count nothing). */
function checkKeysNameLayers(
  keys: Readonly<Record<string, string | undefined>>,
  limiterIds: readonly string[],
): void {
  for (const id of Object.keys(keys)) {
    if (!limiterIds.includes(id)) {
      throw new InvalidArgumentError(
        'keys',
        `'${id}' is not one of the limiters checked (${limiterIds.join(', ')})`,
      );
    }
  }
}

/** Overrides as one comparable string, whatever the order of their fields. */
function canonicalOverrides(overrides: Partial<LimiterOptions>): string {
  if (typeof overrides !== 'object' || overrides === null) {
    throw new InvalidArgumentError('overrides', 'expected an object of limiter options');
  }
  const defined = Object.entries(overrides).filter(([, v]) => v !== undefined);
  return JSON.stringify(defined.sort(([a], [b]) => (a < b ? -1 : 1)));
}
