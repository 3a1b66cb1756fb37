import { CircuitBreaker } from './circuit-breaker';
import type { Clock } from './clock';
import type { AcquireRequest, Engine, LayerDecision } from './engines/engine';
import { RateLimitedLog, type RateSyncLogger } from './logger';
import { MetricsObservers } from './metrics/metrics-observer';
import type { StoreOptions } from './options';
import { ReleaseWaiters } from './release-waiters';
import { isConnectivityFailure } from './store-failure';
import { PROBE_TIMEOUT_MS, StoreProbe, type StoreHealth } from './store-probe';

/** A configured store at run time: its engine, breaker and waiter queues. One per store id. */
export class StoreHandle {
  readonly breaker: CircuitBreaker;
  readonly waiters: ReleaseWaiters;
  readonly log: RateLimitedLog;
  private readonly probe: StoreProbe;

  constructor(
    readonly id: string,
    readonly options: StoreOptions,
    readonly engine: Engine,
    clock: Clock,
    logger: RateSyncLogger,
    /** The exporters attached to the owning `RateSync`. */
    readonly observers = new MetricsObservers(),
  ) {
    this.breaker = new CircuitBreaker(
      clock,
      (options.breakerCooldown ?? 1) * 1000,
      isConnectivityFailure,
    );
    this.waiters = new ReleaseWaiters(engine);
    this.log = new RateLimitedLog(logger);
    const socketTimeoutMs = (options.socketTimeout ?? 1) * 1000;
    this.probe = new StoreProbe(engine, clock, Math.min(PROBE_TIMEOUT_MS, socketTimeoutMs));
  }

  /** Whether the store answers a probe (see {@link StoreProbe}), and the breaker's state. */
  async health(): Promise<StoreHealth> {
    const { up, error } = await this.probe.check();
    const base = { store: this.id, engine: this.options.engine, up, breaker: this.breaker.state };
    return error === undefined ? base : { ...base, error };
  }

  /** Connects the engine (a store that no limiter uses is connected by its first probe). */
  connect(): Promise<void> {
    return this.engine.connect();
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
    // Called as a method: a `bind` here would allocate a function per decision.
    if (!this.observers.active) return this.engine.acquireSync!(requests);
    const start = performance.now();
    const decisions = this.engine.acquireSync!(requests);
    this.observers.storeLatency(this.id, performance.now() - start);
    return decisions;
  }

  /** Runs one store call through the circuit breaker (only connectivity failures open it); a
   * failure is counted for exporters. */
  call<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    if (!this.observers.active) return this.run(fn);
    return this.run(fn).catch((err: unknown) => {
      this.observers.storeFailed(this.id);
      throw err;
    });
  }

  private run<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    return this.breaker.run(() => fn(this.engine));
  }
}
