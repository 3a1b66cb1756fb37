import { CircuitBreaker } from './circuit-breaker';
import type { Clock } from './clock';
import type { AcquireRequest, Engine, LayerDecision } from './engines/engine';
import { RateLimitedLog, type RateSyncLogger } from './logger';
import { MetricsObservers } from './metrics/metrics-observer';
import type { StoreOptions } from './options';
import { ReleaseWaiters } from './release-waiters';

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
    /** The exporters attached to the owning `RateSync`. */
    readonly observers = new MetricsObservers(),
  ) {
    this.breaker = new CircuitBreaker(clock, (options.breakerCooldown ?? 1) * 1000);
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

  /**
   * The store call that decides an acquisition: the one place its latency is measured (only
   * while an exporter is attached).
   */
  decide(requests: AcquireRequest[]): Promise<LayerDecision[]> {
    if (!this.observers.active) return this.call((e) => e.acquire(requests));
    const start = performance.now();
    return this.call((e) => e.acquire(requests)).then((decisions) => {
      this.observers.storeLatency(this.id, performance.now() - start);
      return decisions;
    });
  }

  /** {@link decide} for an in-process engine that decides synchronously (`acquireSync`). */
  decideSync(requests: AcquireRequest[]): LayerDecision[] {
    const acquireSync = this.engine.acquireSync!.bind(this.engine);
    if (!this.observers.active) return acquireSync(requests);
    const start = performance.now();
    const decisions = acquireSync(requests);
    this.observers.storeLatency(this.id, performance.now() - start);
    return decisions;
  }

  /** Runs one store call through the circuit breaker; a failure is counted for exporters. */
  call<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    if (!this.observers.active) return this.run(fn);
    return this.run(fn).catch((err: unknown) => {
      this.observers.storeFailed(this.id);
      throw err;
    });
  }

  private run<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    if (this.connectError === undefined) return this.breaker.run(() => fn(this.engine));
    return this.breaker
      .run(() => fn(this.engine))
      .then((value) => {
        this.connectError = undefined;
        return value;
      });
  }
}
