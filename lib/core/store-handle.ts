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
  /** Set when connect() failed; cleared by the first successful store call. */
  private connectError?: unknown;

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

  /** Connects the engine; a failure is remembered (see {@link reachable}) and rethrown. */
  async connect(): Promise<void> {
    try {
      await this.engine.connect();
    } catch (err) {
      this.connectError = err;
      throw err;
    }
  }

  /** Connected (or answered since), and the breaker is closed. */
  get reachable(): boolean {
    return this.breaker.state === 'closed' && this.connectError === undefined;
  }

  /** Runs one store call through the circuit breaker (only connectivity failures open it). */
  call<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    if (this.connectError === undefined) return this.breaker.run(() => fn(this.engine));
    return this.breaker
      .run(() => fn(this.engine))
      .then((value) => {
        this.connectError = undefined;
        return value;
      });
  }
}
