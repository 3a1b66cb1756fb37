import type { CompositeResult, Permit, RateSync, RateSyncLogger } from '../../core';
import type { RateLimitOptions } from '../decorators/rate-limit-options.interface';
import type { KeySource } from '../keys/key-source';
import { MISSING_FIELD_PLACEHOLDER } from '../keys/key-template';

/** Computes one layer's identifier, reporting the template fields that were missing. */
export type KeyResolver = (source: KeySource) => { key: string | undefined; missing?: string[] };

/** The outcome of an acquisition: the decision, and a permit when admitted. */
export interface LimitOutcome {
  readonly result: CompositeResult;
  readonly permit?: Permit;
}

/**
 * A `@RateLimit` declaration bound to one handler or method, validated and compiled at
 * bootstrap: limiter ids checked, key templates parsed, timeouts resolved. One per route.
 */
export class CompiledLimit {
  private warned = false;

  constructor(
    /** `Class.method`, for messages. */
    readonly where: string,
    readonly limiterIds: readonly string[],
    readonly options: Readonly<RateLimitOptions>,
    private readonly resolvers: readonly KeyResolver[],
    /** The first limiter's configured `timeout`, in seconds. */
    private readonly limiterTimeout: number | undefined,
    private readonly rateSync: RateSync,
    private readonly logger: RateSyncLogger,
  ) {}

  /** One identifier per limiter id (undefined: the limiter's shared bucket). */
  keys(source: KeySource): (string | undefined)[] {
    return this.resolvers.map((resolve) => {
      const { key, missing } = resolve(source);
      if (missing?.length) this.warnMissing(missing);
      return key;
    });
  }

  /**
   * Seconds a call may wait. `'try'`: the decorator's timeout, else 0. `'wait'`: the
   * decorator's, else the limiter's, else `Infinity` when `unbounded` (provider methods) or 0
   * (handlers never queue a request without bound).
   */
  timeout(unbounded: boolean): number {
    if (this.options.mode === 'try') return this.options.timeout ?? 0;
    return this.options.timeout ?? this.limiterTimeout ?? (unbounded ? Infinity : 0);
  }

  /**
   * Acquires every limiter all-or-nothing with the given identifiers.
   * @throws StoreUnavailableError when a fail_closed limiter's store cannot decide
   */
  acquire(keys: (string | undefined)[], unbounded: boolean): Promise<LimitOutcome> {
    return this.rateSync.acquireComposite(this.limiterIds, {
      keys,
      cost: this.options.cost,
      strategy: this.options.strategy,
      timeout: this.timeout(unbounded),
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
