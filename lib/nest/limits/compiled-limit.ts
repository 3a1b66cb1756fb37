import type { AcquisitionPlan, Permit, PlanOutcome, RateSync, RateSyncLogger } from '../../core';
import { errorText } from '../../core/error-text';
import type {
  CostFunction,
  HandlerOutcome,
  RateLimitOptions,
  TierFunction,
} from '../decorators/rate-limit-options.interface';
import type { DecisionLog } from '../decision-log';
import type { KeyOutcome, KeyResolver } from '../keys/key-resolver';
import type { KeySource } from '../keys/key-source';
import { MISSING_FIELD_PLACEHOLDER } from '../keys/key-template';
import { callCost } from './call-cost';
import { isPromiseLike } from './call-values';
import { pickTier, type TierOutcome } from './pick-tier';
import type { SkipRule } from './skip-rule';

/** The tier of a declaration without tiers: its only plan. */
const ONLY_PLAN: TierOutcome = Object.freeze({ tier: 0 });

/** The outcome of an acquisition: the decision, and a permit when admitted. */
export type LimitOutcome = PlanOutcome;

/** What one call acquires, decided from the call: the plan (tier), its keys and its cost. */
export interface LimitCall {
  /** The index of the plan: the tier picked (0 without tiers). */
  readonly tier: number;
  /** One identifier per layer of that plan (undefined: the limiter's shared bucket). */
  readonly keys: (string | undefined)[];
  /** The call's cost; undefined: the plan's. */
  readonly cost?: number;
  /** True when the cost function's answer was refused: the call is rejected, nothing consumed. */
  readonly refused?: boolean;
}

/** What {@link CompiledLimit} is built from. */
export interface CompiledLimitParts {
  /** `Class.method`, for messages. */
  readonly where: string;
  /** The options given to `@RateLimit`. */
  readonly options: Readonly<RateLimitOptions>;
  /** The acquisitions, planned and validated at bootstrap: one, or one per tier candidate. */
  readonly plans: readonly AcquisitionPlan[];
  /** Per plan, one key resolver per layer. */
  readonly resolvers: readonly (readonly KeyResolver[])[];
  /** Picks the plan of each call (tiers); absent: the only plan. */
  readonly pick?: TierFunction;
  /** Computes each call's cost; absent: the plan's static cost. */
  readonly cost?: CostFunction;
  readonly rateSync: RateSync;
  readonly logger: RateSyncLogger;
  /** Logs rejections, when the decision log is on. */
  readonly decisionLog?: DecisionLog;
  /** The declaration's `skip` option, when given. */
  readonly skipRule?: SkipRule;
}

/**
 * A `@RateLimit` declaration bound to one handler or method, validated and planned at
 * bootstrap: limiter ids checked, key templates parsed, how long a call may wait decided, one
 * plan per tier candidate. Each call only picks its plan, computes its keys (and cost) and runs
 * it; with synchronous functions (or none) that takes no promise before the acquisition.
 */
export class CompiledLimit {
  readonly where: string;
  /** The limiter ids of the declaration (a tiered one's candidates). */
  readonly limiterIds: readonly string[];
  readonly options: Readonly<RateLimitOptions>;
  /** Whether an admission may hold concurrency slots (its permit must be released). */
  readonly holdsSlots: boolean;
  /**
   * Whether an admission's permit is settled when the call is over: it may hold slots, or
   * `refundWhen` decides then whether to refund it.
   */
  readonly settlesAfterCall: boolean;
  /** Milliseconds a call may wait for its slot (0: it does not wait); the longest of the plans. */
  readonly waitMs: number;
  /** The declaration's `skip` option, when given. */
  readonly skipRule?: SkipRule;
  private readonly parts: CompiledLimitParts;
  /** The problems already logged (each kind once per route). */
  private readonly warned = new Set<string>();

  constructor(parts: CompiledLimitParts) {
    this.parts = parts;
    this.where = parts.where;
    this.options = parts.options;
    this.skipRule = parts.skipRule;
    const limiters = parts.plans.flatMap((p) => p.limiters);
    this.limiterIds = limiters.map((l) => l.id);
    this.holdsSlots = limiters.some((l) => l.policy.concurrency !== undefined);
    this.waitMs = Math.max(...parts.plans.map((p) => p.waitMs));
    this.settlesAfterCall = this.holdsSlots || this.options.refundWhen !== undefined;
  }

  /**
   * Settles an admitted call's permit once the call is over: refunds it when `refundWhen`
   * says so, else releases it. Never rejects; a predicate that throws counts the call.
   */
  settle(permit: Permit, outcome: HandlerOutcome): Promise<void> {
    const refundWhen = this.options.refundWhen;
    if (!refundWhen) return permit.release();
    let refund = false;
    try {
      refund = Boolean(refundWhen(outcome));
    } catch (err) {
      this.parts.logger.warn(
        `@RateLimit on ${this.where}: refundWhen threw (${errorText(err)}); the call stays counted`,
      );
    }
    return refund ? permit.refund() : permit.release();
  }

  /**
   * Decides what a call acquires: its tier, keys and cost. Synchronous unless a `pick` or key
   * function returned a promise. Never throws or rejects: bad answers are logged once per route
   * and counted as the declaration documents.
   */
  prepare(source: KeySource): LimitCall | Promise<LimitCall> {
    const { pick } = this.parts;
    if (!pick) return this.prepareTier(ONLY_PLAN, source);
    const tier = pickTier(pick, this.limiterIds, source.context);
    return isPromiseLike(tier)
      ? tier.then((t) => this.prepareTier(t, source))
      : this.prepareTier(tier, source);
  }

  /**
   * Acquires a prepared call all-or-nothing. `signal` cancels a call that is still waiting
   * (its client went away).
   * @throws StoreUnavailableError when a fail_closed limiter's store cannot decide
   */
  acquire(call: LimitCall, signal?: AbortSignal): Promise<LimitOutcome> {
    const plan = this.parts.plans[call.tier];
    const outcome = call.refused
      ? this.refuse(plan, call.keys)
      : this.parts.rateSync.execute(
          call.cost === undefined || call.cost === plan.cost ? plan : { ...plan, cost: call.cost },
          call.keys,
          signal,
        );
    const log = this.parts.decisionLog;
    if (!log) return outcome;
    return outcome.then((o) => {
      log.record(this.where, call.keys, o.result);
      return o;
    });
  }

  /**
   * {@link CompiledLimit.acquire} when the call is decided at once (an in-process engine, no
   * waiting): the outcome without a promise; undefined when it needs the general path.
   */
  acquireNow(call: LimitCall): LimitOutcome | undefined {
    if (call.refused) return undefined;
    const plan = this.parts.plans[call.tier];
    const outcome = this.parts.rateSync.executeNow(
      call.cost === undefined || call.cost === plan.cost ? plan : { ...plan, cost: call.cost },
      call.keys,
    );
    if (outcome) this.parts.decisionLog?.record(this.where, call.keys, outcome.result);
    return outcome;
  }

  /** Prepares and acquires (transports without a separate key step). */
  run(source: KeySource, signal?: AbortSignal): Promise<LimitOutcome> {
    const call = this.prepare(source);
    return isPromiseLike(call)
      ? call.then((c) => this.acquire(c, signal))
      : this.acquire(call, signal);
  }

  private prepareTier(picked: TierOutcome, source: KeySource): LimitCall | Promise<LimitCall> {
    if (picked.problem) this.warn('pick', picked.problem);
    const { tier } = picked;
    let cost: number | undefined;
    let refused = false;
    if (this.parts.cost) {
      const outcome = callCost(this.parts.cost, source.context, this.parts.plans[tier].maxCost);
      if ('problem' in outcome) {
        this.warn('cost', `${outcome.problem}; such calls are rejected without counting`);
        refused = true;
      } else cost = outcome.cost;
    }
    // Loops rather than map/some and a closure: this runs on every request.
    const resolvers = this.parts.resolvers[tier];
    const outcomes: (KeyOutcome | Promise<KeyOutcome>)[] = [];
    let pending = false;
    for (const resolve of resolvers) {
      const outcome = resolve(source);
      if (isPromiseLike(outcome)) pending = true;
      outcomes.push(outcome);
    }
    if (!pending) return this.callOf(tier, outcomes as KeyOutcome[], cost, refused);
    return Promise.all(outcomes).then((done) => this.callOf(tier, done, cost, refused));
  }

  private callOf(
    tier: number,
    outcomes: readonly KeyOutcome[],
    cost: number | undefined,
    refused: boolean,
  ): LimitCall {
    const keys: (string | undefined)[] = [];
    for (const outcome of outcomes) keys.push(this.keyOf(outcome));
    return { tier, keys, cost, refused };
  }

  /**
   * The decision of a call whose cost was refused: the keys' real state (read at the largest
   * cost the limit admits, consuming nothing), marked rejected. In shadow mode the call is let
   * through at that cost instead.
   */
  private refuse(plan: AcquisitionPlan, keys: (string | undefined)[]): Promise<LimitOutcome> {
    const { rateSync } = this.parts;
    if (plan.limiters.some((l) => !l.enforced)) {
      return rateSync.execute({ ...plan, cost: plan.maxCost }, keys);
    }
    const probe = { ...plan, cost: plan.maxCost, dryRun: true, waitMs: 0 };
    return rateSync.execute(probe, keys).then(({ result }) => ({
      result: { ...result, allowed: false, blockedBy: 'rate' as const },
    }));
  }

  private keyOf(outcome: KeyOutcome): string | undefined {
    if (outcome.missing?.length) {
      const fields = outcome.missing.map((m) => `{${m}}`).join(', ');
      this.warn('missing', `a request had no ${fields}; ${this.placeholderNote()}`);
    }
    if (outcome.problem) this.warn('key', `${outcome.problem}; ${this.placeholderNote()}`);
    return outcome.key;
  }

  private placeholderNote(): string {
    return `such requests are counted together under '${MISSING_FIELD_PLACEHOLDER}'`;
  }

  /** Logs one kind of problem once per route (a bad client cannot flood the log). */
  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.parts.logger.warn(
      `@RateLimit on ${this.where}: ${message} (this warning is shown once per route)`,
    );
  }
}
