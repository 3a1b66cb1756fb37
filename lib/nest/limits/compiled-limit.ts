import type { AcquisitionPlan, Permit, PlanOutcome, RateSync, RateSyncLogger } from '../../core';
import { errorText } from '../../core/error-text';
import type { HandlerOutcome, RateLimitOptions } from '../decorators/rate-limit-options.interface';
import type { DecisionLog } from '../decision-log';
import type { KeySource } from '../keys/key-source';
import { MISSING_FIELD_PLACEHOLDER } from '../keys/key-template';

/** Computes one layer's identifier, reporting the template fields that were missing. */
export type KeyResolver = (source: KeySource) => { key: string | undefined; missing?: string[] };

/** The outcome of an acquisition: the decision, and a permit when admitted. */
export type LimitOutcome = PlanOutcome;

/** What {@link CompiledLimit} is built from. */
export interface CompiledLimitParts {
  /** `Class.method`, for messages. */
  readonly where: string;
  /** The options given to `@RateLimit`. */
  readonly options: Readonly<RateLimitOptions>;
  /** The acquisition, planned and validated at bootstrap. */
  readonly plan: AcquisitionPlan;
  /** One key resolver per layer of the plan. */
  readonly resolvers: readonly KeyResolver[];
  readonly rateSync: RateSync;
  readonly logger: RateSyncLogger;
  /** Logs rejections, when the decision log is on. */
  readonly decisionLog?: DecisionLog;
}

/**
 * A `@RateLimit` declaration bound to one handler or method, validated and planned at
 * bootstrap: limiter ids checked, key templates parsed, how long a call may wait decided. One
 * per route; each call only computes its keys and runs the plan.
 */
export class CompiledLimit {
  readonly where: string;
  /** The limiter ids and options of the declaration (a `RateLimitDeclaration` view). */
  readonly limiterIds: readonly string[];
  readonly options: Readonly<RateLimitOptions>;
  /** Whether an admission holds concurrency slots (its permit must be released). */
  readonly holdsSlots: boolean;
  /**
   * Whether an admission's permit is settled when the call is over: it holds slots, or
   * `refundWhen` decides then whether to refund it.
   */
  readonly settlesAfterCall: boolean;
  private readonly plan: AcquisitionPlan;
  private readonly resolvers: readonly KeyResolver[];
  private readonly rateSync: RateSync;
  private readonly logger: RateSyncLogger;
  private readonly decisionLog?: DecisionLog;
  private warned = false;

  constructor(parts: CompiledLimitParts) {
    ({
      where: this.where,
      options: this.options,
      plan: this.plan,
      resolvers: this.resolvers,
      rateSync: this.rateSync,
      logger: this.logger,
      decisionLog: this.decisionLog,
    } = parts);
    this.limiterIds = this.plan.limiters.map((l) => l.id);
    this.holdsSlots = this.plan.limiters.some((l) => l.policy.concurrency !== undefined);
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
      this.logger.warn(
        `@RateLimit on ${this.where}: refundWhen threw (${errorText(err)}); the call stays counted`,
      );
    }
    return refund ? permit.refund() : permit.release();
  }

  /** Milliseconds a call may wait for its slot (0: it does not wait). */
  get waitMs(): number {
    return this.plan.waitMs;
  }

  /** One identifier per limiter id (undefined: the limiter's shared bucket). */
  keys(source: KeySource): (string | undefined)[] {
    return this.resolvers.map((resolve) => {
      const { key, missing } = resolve(source);
      if (missing?.length) this.warnMissing(missing);
      return key;
    });
  }

  /**
   * Acquires every limiter all-or-nothing with the given identifiers. `signal` cancels a call
   * that is still waiting (its client went away).
   * @throws StoreUnavailableError when a fail_closed limiter's store cannot decide
   */
  acquire(keys: (string | undefined)[], signal?: AbortSignal): Promise<LimitOutcome> {
    const outcome = this.rateSync.execute(this.plan, keys, signal);
    const log = this.decisionLog;
    if (!log) return outcome;
    return outcome.then((o) => {
      log.record(this.where, keys, o.result);
      return o;
    });
  }

  private warnMissing(missing: string[]): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(
      `@RateLimit on ${this.where}: a request had no ${missing.map((m) => `{${m}}`).join(', ')}; ` +
        `such requests are counted together under '${MISSING_FIELD_PLACEHOLDER}' ` +
        `(this warning is shown once per route)`,
    );
  }
}
