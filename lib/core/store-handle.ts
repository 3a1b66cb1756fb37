import { CircuitBreaker } from './circuit-breaker';
import type { Clock } from './clock';
import { DegradedMode } from './degraded-mode';
import { switchBackMs } from './local-policy';
import type { AcquireRequest, Engine, LayerDecision } from './engines/engine';
import { FleetHeartbeat } from './fleet-heartbeat';
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
  /** This process's heartbeat in the store: the fleet size of degraded mode. */
  readonly heartbeat: FleetHeartbeat;
  /** Decisions of `on_store_failure = "local"` limiters while the store is down. */
  readonly degraded: DegradedMode;
  private readonly probe: StoreProbe;
  /** Whether a limiter of this store is `local`, and whether the store was connected. */
  private fleetNeeded = false;
  private connected = false;

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
    this.heartbeat = new FleetHeartbeat(id, engine, options, clock, this.log);
    const cooldownMs = (options.breakerCooldown ?? 1) * 1000;
    this.degraded = new DegradedMode(id, clock, this.heartbeat, logger, switchBackMs(cooldownMs));
  }

  /** Whether the store answers a probe (see {@link StoreProbe}), and the breaker's state. */
  async health(): Promise<StoreHealth> {
    const { up, error } = await this.probe.check();
    const base = { store: this.id, engine: this.options.engine, up, breaker: this.breaker.state };
    const degraded = this.degraded.state;
    return {
      ...base,
      ...(error === undefined ? {} : { error }),
      ...(degraded ? { degraded } : {}),
    };
  }

  /**
   * Connects the engine (a store that no limiter uses is connected by its first probe), then
   * starts the heartbeat when a limiter of the store is `local`. An unreachable store still
   * starts it: the fleet is counted once the store answers.
   */
  async connect(): Promise<void> {
    this.connected = true;
    try {
      await this.engine.connect();
    } finally {
      if (this.fleetNeeded) this.heartbeat.start();
    }
  }

  /** A limiter of this store has `on_store_failure = "local"`: count the fleet. */
  needFleet(): void {
    this.fleetNeeded = true;
    if (this.connected) this.heartbeat.start();
  }

  /** Stops the heartbeat (removing this process's record), then closes the engine. */
  async close(): Promise<void> {
    await this.heartbeat.stop();
    await this.degraded.close();
    await this.engine.close();
  }

  /**
   * The store call that decides an acquisition: the one place its latency is measured (only
   * while an exporter is attached).
   */
  decide(requests: AcquireRequest[]): Promise<LayerDecision[]> {
    if (!this.observers.active) return this.breaker.call(this.acquireOnEngine, requests);
    const start = performance.now();
    return this.call((e) => e.acquire(requests)).then((decisions) => {
      this.observers.storeLatency(this.id, performance.now() - start);
      return decisions;
    });
  }

  /** The engine's `acquire`, made once (see {@link CircuitBreaker.call}). */
  private readonly acquireOnEngine = (requests: AcquireRequest[]): Promise<LayerDecision[]> =>
    this.engine.acquire(requests);

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
