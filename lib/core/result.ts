/**
 * The one decision type every layer reads: headers, exceptions, metrics and the service.
 */
export interface RateLimitResult {
  /** Whether the acquisition was admitted. */
  readonly allowed: boolean;
  /** The policy's capacity: `burst` (token bucket), `limit` (sliding window), else `max_concurrent`. */
  readonly limit: number;
  /** How many more acquisitions of cost 1 would be admitted right now. Never negative. */
  readonly remaining: number;
  /** Epoch milliseconds (store clock) at which the key is back to full capacity. */
  readonly resetAt: number;
  /**
   * Epoch milliseconds on the store's clock when this answer was given: the clock `resetAt`
   * is on, so `resetAt - now` is the time until the reset, whatever this process's clock says
   * (a Redis or PostgreSQL server's clock is not this process's). For an admission that slept
   * for its reserved slot, the decision's time plus that sleep. Absent only on results built
   * outside this package.
   */
  readonly now?: number;
  /** When rejected: milliseconds until a retry can succeed (0 when allowed). */
  readonly retryAfterMs: number;
  /** The limiter that decided. */
  readonly limiterId: string;
  /** The identifier that was counted (`''` for the limiter's single global bucket). */
  readonly key: string;
  /** When rejected: which part of the policy rejected. */
  readonly blockedBy?: 'rate' | 'concurrency' | 'store';
  /** True when the store failed and the limiter is fail-open: admitted without counting. */
  readonly failedOpen?: boolean;
  /**
   * True when decided in this process alone (`on_store_failure = "local"`, degraded mode): the
   * store was down, or had just come back. `limit` and `remaining` are then this process's
   * share: the limit divided by the fleet size.
   */
  readonly degraded?: boolean;
  /**
   * True when a limiter in shadow mode (`enforce = false`) decided: `allowed` is then always
   * true, and the call proceeds whatever the limit says. No rate-limit header is sent.
   */
  readonly shadow?: boolean;
  /** Milliseconds the caller waited for its reserved slot before being admitted. */
  readonly waitedMs?: number;
}

/** The result of a composite (several limiters, all-or-nothing) decision. */
export interface CompositeResult extends RateLimitResult {
  /** One result per layer, in the order given. */
  readonly layers: readonly RateLimitResult[];
  /** The layer that blocked, when rejected. */
  readonly blockingLimiterId?: string;
}

/** A read-only view of one key of a limiter. Reading it consumes nothing. */
export interface LimiterState {
  /** The limiter read. */
  readonly limiterId: string;
  /** The key read (`''`: the shared bucket). */
  readonly key: string;
  /** The limit: burst, window limit, or max concurrent. */
  readonly limit: number;
  /** What one more acquisition could take now. */
  readonly remaining: number;
  /** Epoch ms (store clock) when the key is back to its full limit. */
  readonly resetAt: number;
  /**
   * Epoch ms on the store's clock when it was read: `resetAt - now` is the time until the
   * reset, whatever this process's clock says. Absent only on states built outside this package.
   */
  readonly now?: number;
  /** Concurrency slots currently held, when the policy has `max_concurrent`. */
  readonly inFlight?: number;
}
