import type { RateLimitResult } from './result';

/**
 * Proof of one admitted acquisition. Releasing it frees its concurrency slots; releasing twice
 * (or after the limiter was reset) is a no-op. A permit with no concurrency part releases
 * nothing. Works with `await using permit = await limiters.acquire('x')`.
 */
export class Permit implements AsyncDisposable {
  private releasing?: Promise<void>;

  constructor(
    /** The decision that admitted this permit. */
    readonly result: RateLimitResult,
    private readonly onRelease?: () => Promise<void>,
  ) {}

  /** True once {@link Permit.release} was called. */
  get released(): boolean {
    return this.releasing !== undefined;
  }

  /** Frees the concurrency slots. Never rejects: a store error is logged and the lease expires. */
  release(): Promise<void> {
    this.releasing ??= this.onRelease ? this.onRelease() : Promise.resolve();
    return this.releasing;
  }

  /** `await using permit = ...`: releases when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
