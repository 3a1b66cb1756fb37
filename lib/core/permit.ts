import type { RateLimitResult } from './result';

/**
 * Proof of one admitted acquisition. Releasing it frees its concurrency slots; releasing twice
 * (or after the limiter was reset) is a no-op. A permit with no concurrency part releases
 * nothing. Refunding it also gives back the rate units it took (see {@link Permit.refund}).
 * Works with `await using permit = await limiters.acquire('x')`.
 */
export class Permit implements AsyncDisposable {
  private releasing?: Promise<void>;
  private refunding?: Promise<void>;

  constructor(
    /** The decision that admitted this permit. */
    readonly result: RateLimitResult,
    private readonly onRelease?: () => Promise<void>,
    private readonly onRefund?: () => Promise<void>,
  ) {}

  /** True once {@link Permit.release} (or {@link Permit.refund}) was called. */
  get released(): boolean {
    return this.releasing !== undefined;
  }

  /** True once {@link Permit.refund} was called. */
  get refunded(): boolean {
    return this.refunding !== undefined;
  }

  /** Frees the concurrency slots. Never rejects: a store error is logged and the lease expires. */
  release(): Promise<void> {
    this.releasing ??= this.onRelease ? this.onRelease() : Promise.resolve();
    return this.releasing;
  }

  /**
   * Gives back what this admission took, as if it had not happened: the token bucket's units
   * and the sliding window's entry (a reservation still being waited for included), and frees
   * the concurrency slots as {@link Permit.release} does. Calls after the first (and a refund
   * after a release, for the slots) are no-ops; a refund after a release still gives back the
   * rate units. A permit admitted while its store was down (fail-open) has nothing to give
   * back. Never rejects: a store error is logged, and the units stay taken.
   */
  refund(): Promise<void> {
    this.refunding ??= Promise.all([this.onRefund?.(), this.release()]).then(() => undefined);
    return this.refunding;
  }

  /** `await using permit = ...`: releases when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
