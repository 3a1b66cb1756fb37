import { CircuitBreaker } from './circuit-breaker';
import type { Clock } from './clock';
import type { Engine } from './engines/engine';
import { RateLimitedLog, type RateSyncLogger } from './logger';
import type { StoreOptions } from './options';
import { ReleaseWaiters } from './release-waiters';
import { isConnectivityFailure } from './store-failure';

/** A configured store at run time: its engine, breaker and waiter queues. One per store id. */
export class StoreHandle {
  readonly breaker: CircuitBreaker;
  readonly waiters: ReleaseWaiters;
  readonly log: RateLimitedLog;
  /** Set when connect() failed; cleared on the first successful store call. */
  connectError?: unknown;

  constructor(
    readonly id: string,
    readonly options: StoreOptions,
    readonly engine: Engine,
    clock: Clock,
    logger: RateSyncLogger,
  ) {
    this.breaker = new CircuitBreaker(
      clock,
      (options.breakerCooldown ?? 1) * 1000,
      isConnectivityFailure,
    );
    this.waiters = new ReleaseWaiters(engine);
    this.log = new RateLimitedLog(logger);
  }

  /** Runs one store call through the circuit breaker (only connectivity failures open it). */
  call<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    return this.breaker.run(() => fn(this.engine));
  }
}
