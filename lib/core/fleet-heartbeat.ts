import { randomUUID } from 'node:crypto';
import type { Clock } from './clock';
import type { DegradedState } from './degraded-mode';
import type { Engine } from './engines/engine';
import { errorText } from './error-text';
import type { RateLimitedLog } from './logger';
import type { StoreOptions } from './options';

/** Seconds between a process's heartbeats in a store. */
export const DEFAULT_HEARTBEAT_SECONDS = 5;
/** A heartbeat lives this many intervals: a process is counted until it missed two beats. */
export const HEARTBEAT_LIFETIMES = 3;

/** How a store's fleet size is known (see `DegradedState.fleetSource`). */
export type FleetSource = DegradedState['fleetSource'];

/** The number of processes sharing a store, and how it is known. */
export interface FleetSize {
  readonly size: number;
  readonly source: FleetSource;
}

/**
 * This process's heartbeat in a shared store, for degraded mode: one store call every
 * `heartbeat_interval` seconds (never per decision) writes a record that lives three intervals
 * and returns how many processes have a live one. The fleet size is the largest count seen over
 * the three intervals before the last heartbeat that reached the store, so a count taken just after a restart of the store (when the other
 * processes have not beaten again yet) does not shrink it. One unref()ed timer; `stop()` clears
 * it and removes this process's record.
 */
export class FleetHeartbeat {
  /** Unique per process and store handle: two apps in one process count as two. */
  readonly instanceId = randomUUID();
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  /** Counts returned by recent heartbeats (clock ms, count), oldest first. */
  private counts: { at: number; alive: number }[] = [];
  private readonly intervalMs: number;

  constructor(
    private readonly storeId: string,
    private readonly engine: Engine,
    private readonly options: StoreOptions,
    private readonly clock: Clock,
    private readonly log: RateLimitedLog,
  ) {
    this.intervalMs = (options.heartbeatInterval ?? DEFAULT_HEARTBEAT_SECONDS) * 1000;
  }

  /** The fleet size to divide limits by: configured, else from heartbeats, else 1. */
  get fleet(): FleetSize {
    if (this.options.fleetSize !== undefined) {
      return { size: this.options.fleetSize, source: 'configured' };
    }
    // The counts of the last three intervals before the last heartbeat that reached the store.
    if (this.counts.length === 0) return { size: 1, source: 'fallback' };
    return { size: Math.max(...this.counts.map((c) => c.alive)), source: 'heartbeat' };
  }

  /**
   * Starts beating (now, then every interval), unless `fleet_size` is configured or the engine
   * keeps no heartbeats (memory: a fleet of one). Idempotent.
   */
  start(): void {
    if (this.timer || this.options.fleetSize !== undefined || !this.engine.heartbeat) return;
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
    void this.beat();
  }

  /** Stops the timer, waits for a beat in flight and removes this process's record. */
  async stop(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    if (this.counts.length === 0 || !this.engine.leaveFleet) return;
    await this.engine.leaveFleet(this.instanceId).catch(() => undefined); // expires anyway
  }

  private beat(): Promise<void> {
    this.beating ??= this.engine.heartbeat!(this.instanceId, this.intervalMs * HEARTBEAT_LIFETIMES)
      .then(
        (alive) => this.record(alive),
        (err: unknown) =>
          this.log.warn(
            `heartbeat:${this.storeId}`,
            `rate-sync: store '${this.storeId}': heartbeat failed (${errorText(err)}); the fleet size stays ${this.fleet.size}`,
          ),
      )
      .finally(() => (this.beating = undefined));
    return this.beating;
  }

  private record(alive: number): void {
    const now = this.clock.now();
    const since = now - this.intervalMs * HEARTBEAT_LIFETIMES;
    this.counts = [...this.counts.filter((c) => c.at >= since), { at: now, alive }];
  }
}
