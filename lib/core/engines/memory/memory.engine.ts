import { decideLayer, type KeyState, type LayerWrite } from '../../algorithms/decide';
import type { WindowEntry } from '../../algorithms/sliding-window';
import type { Clock } from '../../clock';
import type { LimiterPolicy } from '../../policy';
import type { AcquireRequest, Engine, LayerDecision } from '../engine';

/** Options of the memory engine. */
export interface MemoryEngineOptions {
  readonly clock: Clock;
  /** Cap on tracked keys per kind of state; the oldest-created keys are evicted past it. @default 1_000_000 */
  readonly maxKeys?: number;
  /** Milliseconds between sweeps of expired state. @default 10_000 */
  readonly sweepIntervalMs?: number;
}

/**
 * The in-process engine and the reference model: it runs the pure functions of
 * `algorithms/` over plain maps. State is dropped lazily when expired and by one `unref()`ed
 * sweep timer; there is no timer per key or per request.
 */
export class MemoryEngine implements Engine {
  readonly kind = 'memory' as const;
  private readonly tats = new Map<string, number>();
  private readonly logs = new Map<string, WindowEntry[]>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly listeners = new Map<string, Set<() => void>>();
  /** Window length per escaped limiter id, learnt on write, so the sweep knows what has expired. */
  private readonly windowMs = new Map<string, number>();
  private readonly maxKeys: number;
  private sweepTimer?: NodeJS.Timeout;
  /** Live iterators used to evict the oldest keys past `maxKeys`, one per map. */
  private readonly evictors = new Map<Map<string, unknown>, Iterator<string>>();

  constructor(private readonly options: MemoryEngineOptions) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
  }

  async connect(): Promise<void> {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 10_000);
    this.sweepTimer.unref();
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.listeners.clear();
  }

  /** In-process: always answers. */
  async ping(): Promise<void> {}

  /** Number of keys holding state (all kinds). */
  get size(): number {
    return this.tats.size + this.logs.size + this.leases.size;
  }

  async acquire(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    return this.acquireSync(requests);
  }

  /** The synchronous core of {@link acquire}, for callers on the hot path. */
  acquireSync(requests: readonly AcquireRequest[]): LayerDecision[] {
    const now = this.options.clock.now();
    if (requests.length === 1) {
      const r = requests[0];
      const { decision, write } = decideLayer(this.read(r), now, r);
      if (decision.allowed && !r.dryRun) this.apply(r, write);
      return [decision];
    }
    const outcomes = requests.map((r) => decideLayer(this.read(r), now, r));
    const commit = outcomes.every((o) => o.decision.allowed) && !requests.some((r) => r.dryRun);
    if (commit) outcomes.forEach(({ write }, i) => this.apply(requests[i], write));
    return outcomes.map((o) => o.decision);
  }

  private apply(r: AcquireRequest, write: LayerWrite): void {
    if (write.tat !== undefined) this.put(this.tats, r.key, write.tat);
    if (write.entries !== undefined) {
      this.put(this.logs, r.key, write.entries);
      this.windowMs.set(r.policy.keyPrefix, r.policy.window!.windowMs);
    }
    if (write.lease) {
      let held = this.leases.get(r.key);
      if (!held) this.put(this.leases, r.key, (held = new Map()));
      held.set(write.lease.id, write.lease.expiresAt);
    }
  }

  async release(_policy: LimiterPolicy, key: string, leaseId: string): Promise<void> {
    const held = this.leases.get(key);
    if (!held?.delete(leaseId)) return;
    if (held.size === 0) this.leases.delete(key);
    this.notify(key);
  }

  async renew(policy: LimiterPolicy, key: string, leaseIds: readonly string[]): Promise<void> {
    const held = this.leases.get(key);
    if (!held || !policy.concurrency) return;
    const now = this.options.clock.now();
    const expiresAt = now + policy.concurrency.leaseMs;
    for (const id of leaseIds) {
      const current = held.get(id);
      // An expired lease stays expired: its slot may already belong to someone else.
      if (current !== undefined && current > now) held.set(id, expiresAt);
    }
  }

  async reset(policy: LimiterPolicy, key?: string): Promise<void> {
    const prefix = policy.keyPrefix;
    const matches = (k: string): boolean =>
      key !== undefined ? k === key : k === prefix || k.startsWith(`${prefix}:`);
    for (const map of [this.tats, this.logs] as Map<string, unknown>[]) {
      for (const k of map.keys()) if (matches(k)) map.delete(k);
    }
    for (const k of this.leases.keys()) {
      if (!matches(k)) continue;
      this.leases.delete(k);
      this.notify(k);
    }
  }

  onRelease(_policy: LimiterPolicy, key: string, listener: () => void): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  /** Drops every expired piece of state. Runs on the sweep timer; public for tests. */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [k, tat] of this.tats) if (tat <= now) this.tats.delete(k);
    for (const [k, log] of this.logs) {
      const windowMs = this.windowMs.get(k.split(':', 1)[0]) ?? Infinity;
      if (log.length === 0 || log[log.length - 1].at <= now - windowMs) this.logs.delete(k);
    }
    for (const [k, held] of this.leases) {
      for (const [id, exp] of held) if (exp <= now) held.delete(id);
      if (held.size === 0) this.leases.delete(k);
    }
  }

  private read(r: AcquireRequest): KeyState {
    const p = r.policy;
    return {
      tat: p.gcra ? this.tats.get(r.key) : undefined,
      entries: p.window ? this.logs.get(r.key) : undefined,
      leases: p.concurrency ? this.leases.get(r.key) : undefined,
    };
  }

  private put<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= this.maxKeys && !map.has(key)) this.evictOldest(map);
    map.set(key, value);
  }

  /**
   * Deletes the oldest key of `map`. One live iterator per map walks forward across calls:
   * starting a fresh `keys()` each time would step over every slot freed by earlier
   * evictions, which made a full store admit new keys 15 times slower.
   */
  private evictOldest(map: Map<string, unknown>): void {
    for (let pass = 0; pass < 2; pass++) {
      let it = this.evictors.get(map);
      if (!it) this.evictors.set(map, (it = map.keys()));
      for (let next = it.next(); !next.done; next = it.next()) {
        if (map.delete(next.value)) return;
      }
      this.evictors.delete(map);
    }
  }

  private notify(key: string): void {
    const set = this.listeners.get(key);
    if (set) for (const listener of [...set]) listener();
  }
}
