import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { MemoryEngine } from './engines/memory/memory.engine';
import type { FleetHeartbeat, FleetSource } from './fleet-heartbeat';
import type { RateSyncLogger } from './logger';
import type { LeaseHolder } from './permit-leases';
import { localPolicy, periodMs } from './local-policy';
import type { LimiterPolicy } from './policy';

/** A store in degraded mode, as health() reports it. */
export interface DegradedState {
  /** Epoch ms (this process's clock) when this process started deciding locally. */
  readonly since: number;
  /** Milliseconds spent in degraded mode so far. */
  readonly durationMs: number;
  /** The fleet size the limits are divided by. */
  readonly fleetSize: number;
  /**
   * How the fleet size is known: `configured` (`fleet_size`), `heartbeat` (counted in the
   * store), or `fallback` (1: nothing was known).
   */
  readonly fleetSource: 'configured' | 'heartbeat' | 'fallback';
}

/** Keys the local engine tracks at most during an outage (a key flood cannot exhaust memory). */
const LOCAL_MAX_KEYS = 100_000;

/**
 * The degraded mode of one store (limiters with `on_store_failure = "local"`): while the store
 * cannot decide, their decisions run on a memory engine of this process at the limit divided by
 * the fleet size. Nothing of it is ever written to the store. After the store is back, for one
 * period of each policy (the window, or the token bucket's refill time `burst / rate`), every
 * decision of those limiters must also pass this local state (`gate`), so what was admitted
 * locally is not admitted again by the store's refilled bucket. Then the local state is dropped.
 */
export class DegradedMode {
  private engine?: MemoryEngine;
  private since?: number;
  private fleetSize = 1;
  private fleetSource: FleetSource = 'fallback';
  /** Clock ms until which decisions pass the local state too, after a recovery. */
  private carryUntil = 0;
  /** The longest local period met in this episode (ms). */
  private carryMs = 0;
  private readonly scaled = new Map<LimiterPolicy, LimiterPolicy>();
  private readonly rateOnly = new Map<LimiterPolicy, LimiterPolicy | undefined>();

  constructor(
    private readonly storeId: string,
    private readonly clock: Clock,
    private readonly heartbeat: FleetHeartbeat,
    private readonly logger: RateSyncLogger,
    /**
     * The shortest carry-over after a recovery, in ms: long enough for every process of the
     * fleet to see the store back (see `switchBackMs`), so that none admits at the store's
     * full limit while another still admits its local share.
     */
    private readonly minCarryMs = 0,
  ) {}

  /** Whether decisions run locally now (the store is failing). */
  get active(): boolean {
    return this.since !== undefined;
  }

  /** The degraded state now, or undefined when the store decides. */
  get state(): DegradedState | undefined {
    if (this.since === undefined) return undefined;
    const durationMs = this.clock.now() - this.since;
    return {
      since: Date.now() - durationMs,
      durationMs,
      fleetSize: this.fleetSize,
      fleetSource: this.fleetSource,
    };
  }

  /** Whether the store is back and decisions must still pass the local state (see the class). */
  get carrying(): boolean {
    if (!this.engine || this.since !== undefined) return false;
    if (this.clock.now() < this.carryUntil) return true;
    void this.engine.close();
    this.engine = undefined;
    return false;
  }

  /** Starts degraded mode (once per outage) and logs it. */
  enter(limiterIds: string, why: string): void {
    if (this.since !== undefined) return;
    this.since = this.clock.now();
    ({ size: this.fleetSize, source: this.fleetSource } = this.heartbeat.fleet);
    if (!this.engine) {
      this.engine = new MemoryEngine({ clock: this.clock, maxKeys: LOCAL_MAX_KEYS });
      void this.engine.connect();
      this.scaled.clear();
      this.rateOnly.clear();
      this.carryMs = this.minCarryMs;
    }
    const fleet =
      this.fleetSource === 'fallback'
        ? 'no fleet size known: set fleet_size; this process alone takes the whole limit'
        : `fleet of ${this.fleetSize}, ${this.fleetSource}`;
    this.logger.warn(
      `rate-sync: store '${this.storeId}' failed (${why}); degraded mode: its limiters with on_store_failure = "local" (first ${limiterIds}) decide in this process at 1/${this.fleetSize} of their limits (${fleet})`,
    );
  }

  /**
   * Called after every decision the store made: ends degraded mode when it was on, and then
   * returns true (that first decision has not passed the local state yet).
   */
  answered(): boolean {
    if (this.since === undefined) return false;
    const seconds = ((this.clock.now() - this.since) / 1000).toFixed(1);
    this.since = undefined;
    this.carryUntil = this.clock.now() + this.carryMs;
    this.logger.warn(
      `rate-sync: store '${this.storeId}' is back after ${seconds} s of degraded mode; decisions also pass the local state for ${this.carryMs} ms more`,
    );
    return true;
  }

  /** Decides the layers on the local state, at the limits divided by the fleet size. */
  decide(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    return this.engine!.acquire(requests.map((r) => ({ ...r, policy: this.scale(r.policy) })));
  }

  /**
   * After a recovery: the layers' rate and window parts on the local state (concurrency is
   * left to the store). A layer of a concurrency-only policy passes.
   */
  gate(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    const engine = this.engine!;
    const local = requests.map((r): AcquireRequest | undefined => {
      const policy = this.rateOnlyOf(r.policy);
      return policy && { ...r, policy, leaseId: undefined };
    });
    const asked = local.filter((r): r is AcquireRequest => r !== undefined);
    return engine.acquire(asked).then((decided) => {
      let j = 0;
      return local.map((r) => (r ? decided[j++] : PASS));
    });
  }

  /**
   * The holder of a lease taken on the local state: releasing it frees the local slot (a no-op
   * once the local state is dropped; the store never knew it).
   */
  holder(policy: LimiterPolicy, key: string): LeaseHolder {
    const release = (leaseId: string): Promise<void> =>
      this.engine ? this.engine.release(this.scale(policy), key, leaseId) : Promise.resolve();
    return { release, releaseForgotten: release };
  }

  close(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    return engine ? engine.close() : Promise.resolve();
  }

  private scale(p: LimiterPolicy): LimiterPolicy {
    let scaled = this.scaled.get(p);
    if (!scaled) {
      scaled = localPolicy(p, this.fleetSize);
      this.scaled.set(p, scaled);
      this.carryMs = Math.max(this.carryMs, periodMs(scaled), periodMs(p));
    }
    return scaled;
  }

  private rateOnlyOf(p: LimiterPolicy): LimiterPolicy | undefined {
    if (!this.rateOnly.has(p)) {
      const scaled = this.scale(p);
      const rate = scaled.gcra || scaled.window ? { ...scaled, concurrency: undefined } : undefined;
      this.rateOnly.set(p, rate);
    }
    return this.rateOnly.get(p);
  }
}

/** The gate's answer for a layer it does not limit. */
const PASS: LayerDecision = {
  allowed: true,
  waitMs: 0,
  retryAfterMs: 0,
  limit: 0,
  remaining: 0,
  resetAt: 0,
  now: 0,
};
