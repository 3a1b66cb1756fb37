import type { Clock } from './clock';

/**
 * Per-store circuit breaker (DESIGN 6). After a store failure it stays open for `cooldownMs`:
 * calls fail at once with {@link BreakerOpenError} instead of waiting for a timeout each.
 * Then one call probes the store; success closes the breaker, failure re-opens it. Only the
 * failures `opens` accepts count (the store handle passes `isConnectivityFailure`): an error
 * caused by one call's data fails that call alone and leaves the breaker as it was.
 */
export class CircuitBreaker {
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly clock: Clock,
    private readonly cooldownMs: number,
    /** Whether a failure opens the breaker. @default every failure */
    private readonly opens: (err: unknown) => boolean = () => true,
  ) {}

  /** `closed`, `open` (failing fast) or `half-open` (a probe may pass). */
  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openUntil === 0) return 'closed';
    return this.clock.now() < this.openUntil || this.probing ? 'open' : 'half-open';
  }

  /** Milliseconds until the next probe (0 when closed). */
  get retryAfterMs(): number {
    return Math.max(0, this.openUntil - this.clock.now());
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.call(invoke, fn);
  }

  /**
   * {@link run} of `fn(arg)`: a caller on the hot path passes a function made once and its
   * argument, instead of a new closure per call.
   */
  call<A, T>(fn: (arg: A) => Promise<T>, arg: A): Promise<T> {
    // Closed (the common case): one extra reaction, no async frame, no closure.
    if (this.openUntil === 0) {
      let pending: Promise<T>;
      try {
        pending = fn(arg);
      } catch (err) {
        return Promise.reject(err).catch(this.onFailure);
      }
      return pending.then(undefined, this.onFailure);
    }
    return this.probe(() => fn(arg));
  }

  /** {@link failed} as a rejection handler, made once. */
  private readonly onFailure = (err: unknown): never => this.failed(err);

  private async probe<T>(fn: () => Promise<T>): Promise<T> {
    if (this.probing || this.clock.now() < this.openUntil) {
      throw new BreakerOpenError(this.retryAfterMs);
    }
    this.probing = true;
    try {
      const value = await fn();
      this.openUntil = 0;
      return value;
    } catch (err) {
      // The store answered (with an error about this call's data): it is up again.
      if (!this.opens(err)) this.openUntil = 0;
      return this.failed(err);
    } finally {
      this.probing = false;
    }
  }

  private failed(err: unknown): never {
    if (this.opens(err)) this.openUntil = this.clock.now() + this.cooldownMs;
    throw err;
  }
}

function invoke<T>(fn: () => Promise<T>): Promise<T> {
  return fn();
}

/** Thrown by {@link CircuitBreaker.run} while the breaker is open. */
export class BreakerOpenError extends Error {
  constructor(readonly retryAfterMs: number) {
    super('circuit breaker open after a recent store failure');
    this.name = 'BreakerOpenError';
  }
}
