import {
  blockedDecision,
  decideLayer,
  type KeyState,
  type LayerWrite,
} from '../../algorithms/decide';
import { gcraRefund, windowRefund } from '../../algorithms/refund';
import { lastEntryAt, type WindowLog } from '../../algorithms/sliding-window';
import type { Clock } from '../../clock';
import { policyLimit, type LimiterPolicy } from '../../policy';
import type { AcquireRequest, Engine, LayerDecision, RefundRequest, ReleaseWake } from '../engine';

/** Options of the memory engine. */
export interface MemoryEngineOptions {
  readonly clock: Clock;
  /**
   * Cap on tracked keys per kind of state. At the cap, a new key takes the place of a key that
   * restricts nothing any more (expired state); when every tracked key still restricts, the new
   * key is refused (a rejection), never admitted by forgetting another key's state.
   * @default 1_000_000
   */
  readonly maxKeys?: number;
  /** Milliseconds between sweeps of expired state. @default 10_000 */
  readonly sweepIntervalMs?: number;
  /** Entries a sweep examines per slice before yielding to the event loop. @default 2_000 */
  readonly sweepSliceSize?: number;
}

/** Keys examined, at most, to find one that restricts nothing when a full map needs room. */
const EVICTION_SCAN = 64;

type StateMap = Map<string, unknown>;

/**
 * The in-process engine and the reference model: it runs the pure functions of
 * `algorithms/` over plain maps. State is dropped lazily when expired and by one `unref()`ed
 * sweep timer; there is no timer per key or per request.
 */
/** One key's window log, with the window length the sweep needs to see it expire. */
interface TrackedLog {
  entries: WindowLog;
  readonly windowMs: number;
}

/** Slots of GCRA state allocated at first (the table doubles when full). */
const INITIAL_TAT_SLOTS = 1024;

export class MemoryEngine implements Engine {
  readonly kind = 'memory' as const;
  /**
   * GCRA state: key -> slot in {@link tatTimes}, which holds the theoretical arrival time. An
   * admission of a tracked key looks it up once and writes the slot in place, allocating
   * nothing (a time stored in the map itself would be a new heap number on every write, and a
   * second lookup), and a key costs 8 bytes of state instead of a 12-byte heap number.
   */
  private readonly tats = new Map<string, number>();
  private tatTimes = new Float64Array(INITIAL_TAT_SLOTS);
  /** Slots of dropped keys, reused before the table grows. */
  private readonly freeTatSlots: number[] = [];
  private nextTatSlot = 0;
  private readonly logs = new Map<string, TrackedLog>();
  private readonly leases = new Map<string, Map<string, number>>();
  /** `block_seconds`: key -> epoch ms until which it is rejected. */
  private readonly blocks = new Map<string, number>();
  private readonly listeners = new Map<string, Set<ReleaseWake>>();
  /** The maps of state, in the order {@link writesTo} numbers them and the sweep walks them. */
  private readonly stateMaps: readonly StateMap[] = [
    this.tats,
    this.logs,
    this.leases,
    this.blocks,
  ];
  private readonly maxKeys: number;
  private sweepTimer?: NodeJS.Timeout;
  /**
   * Live iterators that look for keys restricting nothing past `maxKeys`, one per map. Each
   * walks forward across calls (a clock hand) and wraps at the end: a fresh `entries()` per call
   * would step over every slot freed by earlier evictions.
   */
  private readonly evictors = new Map<StateMap, Iterator<[string, unknown]>>();
  /** The sweep's position: the map it is in (index into `stateMaps`) and its iterator. */
  private sweepAt: { map: number; it?: Iterator<[string, unknown]> } = { map: 0 };

  constructor(private readonly options: MemoryEngineOptions) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
  }

  async connect(): Promise<void> {
    if (this.sweepTimer) return;
    this.scheduleSweep(this.options.sweepIntervalMs ?? 10_000);
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.listeners.clear();
  }

  /** In-process: always answers. */
  async ping(): Promise<void> {}

  /** Number of keys holding state (all kinds). */
  get size(): number {
    return this.tats.size + this.logs.size + this.leases.size + this.blocks.size;
  }

  async acquire(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    return this.acquireSync(requests);
  }

  /** The synchronous core of {@link acquire}, for callers on the hot path. */
  acquireSync(requests: readonly AcquireRequest[]): LayerDecision[] {
    const now = this.options.clock.now();
    if (this.blocks.size > 0) {
      const blocked = this.blockedLayers(requests, now);
      if (blocked) return blocked;
    }
    if (requests.length === 1) return [this.decideOne(requests[0], now)];
    const outcomes = requests.map((r) => decideLayer(this.read(r), now, r));
    const decisions = outcomes.map((o) => o.decision);
    const dry = requests.some((r) => r.dryRun);
    if (dry || !decisions.every((d) => d.allowed)) {
      if (!dry) this.writeBlocks(requests, outcomes);
      // Nothing else is written: the layers that would have passed report the state as it is.
      return decisions.map((d, i) =>
        d.allowed && !requests[i].dryRun ? this.asIs(requests[i], now) : d,
      );
    }
    const writes = outcomes.map((o) => o.write);
    if (requests.some((r, i) => this.needsRoom(r.key, writes[i]))) {
      const room = this.makeRoom(requests, writes, now);
      if (room.refusedAt !== undefined) {
        const refusedAt = room.refusedAt;
        return decisions.map((d, i) =>
          i === refusedAt ? room.refusal : this.asIs(requests[i], now),
        );
      }
      if (room.evicted) decisions[0] = { ...decisions[0], evictedKeys: room.evicted };
    }
    writes.forEach((write, i) => this.apply(requests[i], write));
    return decisions;
  }

  /**
   * The decision of a single layer: the common case, which reads each map once and writes the
   * state read in place when the key is already tracked.
   */
  private decideOne(r: AcquireRequest, now: number): LayerDecision {
    const p = r.policy;
    const slot = p.gcra ? this.tats.get(r.key) : undefined;
    const log = p.window ? this.logs.get(r.key) : undefined;
    const leases = p.concurrency ? this.leases.get(r.key) : undefined;
    const tat = slot === undefined ? undefined : this.tatTimes[slot];
    const state = { tat, entries: log?.entries, leases };
    const { decision, write } = decideLayer(state, now, r);
    if (!decision.allowed || r.dryRun) {
      if (write.blockUntil !== undefined) this.blocks.set(r.key, write.blockUntil);
      return decision;
    }
    if (this.needsRoom(r.key, write)) {
      const room = this.makeRoom([r], [write], now);
      if (room.refusedAt !== undefined) return room.refusal;
      // Room was made in the maps the key is not in: what was read there is still current.
      this.writeLayer(r, write, slot, log);
      return room.evicted ? { ...decision, evictedKeys: room.evicted } : decision;
    }
    this.writeLayer(r, write, slot, log);
    return decision;
  }

  /**
   * When a layer's key is blocked (`block_seconds`): every layer decided as a dry run, the
   * blocked ones rejected until their block ends. Undefined when none is blocked.
   */
  private blockedLayers(
    requests: readonly AcquireRequest[],
    now: number,
  ): LayerDecision[] | undefined {
    const until = requests.map((r) => {
      const u = r.policy.blockMs ? this.blocks.get(r.key) : undefined;
      return u !== undefined && u > now ? u : undefined;
    });
    if (until.every((u) => u === undefined)) return undefined;
    return requests.map((r, i) => {
      const asIs = this.asIs(r, now);
      return until[i] === undefined ? asIs : blockedDecision(asIs, now, until[i]!);
    });
  }

  private writeBlocks(
    requests: readonly AcquireRequest[],
    outcomes: readonly { write: LayerWrite }[],
  ): void {
    outcomes.forEach(({ write }, i) => {
      if (write.blockUntil !== undefined) this.blocks.set(requests[i].key, write.blockUntil);
    });
  }

  /** A layer's decision without consuming (a dry run's): the state as it is. */
  private asIs(r: AcquireRequest, now: number): LayerDecision {
    return decideLayer(this.read(r), now, { ...r, dryRun: true }).decision;
  }

  private apply(r: AcquireRequest, write: LayerWrite): void {
    const slot = write.tat !== undefined ? this.tats.get(r.key) : undefined;
    const log = write.entries !== undefined ? this.logs.get(r.key) : undefined;
    this.writeLayer(r, write, slot, log);
  }

  /**
   * Writes an admitted layer in place, through the key's current state (`slot`, `log`:
   * undefined when the key is not tracked there yet).
   */
  private writeLayer(
    r: AcquireRequest,
    write: LayerWrite,
    slot: number | undefined,
    log: TrackedLog | undefined,
  ): void {
    if (write.tat !== undefined) {
      if (slot !== undefined) this.tatTimes[slot] = write.tat;
      else this.tats.set(r.key, this.newTatSlot(write.tat));
    }
    if (write.entries !== undefined) {
      if (log) log.entries = write.entries;
      else this.logs.set(r.key, { entries: write.entries, windowMs: r.policy.window!.windowMs });
    }
    if (write.lease) {
      let held = this.leases.get(r.key);
      if (!held) this.leases.set(r.key, (held = new Map()));
      held.set(write.lease.id, write.lease.expiresAt);
    }
  }

  async refund(requests: readonly RefundRequest[]): Promise<void> {
    this.refundSync(requests);
  }

  /** The synchronous core of {@link refund}. */
  refundSync(requests: readonly RefundRequest[]): void {
    const now = this.options.clock.now();
    for (const r of requests) {
      const g = r.policy.gcra;
      const slot = g ? this.tats.get(r.key) : undefined;
      if (slot !== undefined)
        this.tatTimes[slot] = gcraRefund(this.tatTimes[slot], now, g!, r.cost)!;
      const log = r.entryAt !== undefined ? this.logs.get(r.key) : undefined;
      if (log) log.entries = windowRefund(log.entries, r.entryAt!, r.cost);
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
    for (const map of [this.tats, this.logs, this.blocks] as StateMap[]) {
      for (const [k, value] of map) if (matches(k)) this.drop(map, k, value);
    }
    for (const k of this.leases.keys()) {
      if (!matches(k)) continue;
      this.leases.delete(k);
      this.notify(k);
    }
  }

  onRelease(_policy: LimiterPolicy, key: string, listener: ReleaseWake): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  /** Drops every expired piece of state now, in one pass (the timer runs it in slices). */
  sweep(): void {
    while (!this.sweepSlice(Infinity));
  }

  /**
   * Examines at most `budget` entries from where the previous slice stopped, dropping expired
   * state. Returns true when this completed a pass over every map. A new pass starts on the
   * next call. Public for tests.
   */
  sweepSlice(budget = this.options.sweepSliceSize ?? 2_000): boolean {
    const now = this.options.clock.now();
    const maps = this.stateMaps;
    while (budget > 0) {
      const map = maps[this.sweepAt.map];
      if (!map) {
        this.sweepAt = { map: 0 };
        return true;
      }
      const next = (this.sweepAt.it ??= map.entries()).next();
      if (next.done) {
        this.sweepAt = { map: this.sweepAt.map + 1 };
        continue;
      }
      budget--;
      const [k, value] = next.value;
      if (map === this.leases) this.dropExpiredLeases(value as Map<string, number>, now);
      if (this.expiryOf(map, value) <= now) this.drop(map, k, value);
    }
    return false;
  }

  /**
   * One timer at a time: a slice when due; the slices of a pass follow each other at once
   * (yielding to I/O in between, so a large store never blocks the event loop for long), and
   * the next pass starts `sweepIntervalMs` after one completes.
   */
  private scheduleSweep(delayMs: number): void {
    this.sweepTimer = setTimeout(() => {
      if (!this.sweepTimer) return;
      const done = this.sweepSlice();
      this.scheduleSweep(done ? (this.options.sweepIntervalMs ?? 10_000) : 0);
    }, delayMs);
    this.sweepTimer.unref();
  }

  /**
   * Epoch ms until which a key of `map` restricts anything: the GCRA theoretical arrival time,
   * the end of the window of the last log entry, the latest lease expiry. From then on the key
   * decides exactly as an absent one, so dropping it changes no decision.
   */
  private expiryOf(map: StateMap, value: unknown): number {
    if (map === this.tats) return this.tatTimes[value as number];
    if (map === this.blocks) return value as number;
    if (map === this.logs) {
      const { entries, windowMs } = value as TrackedLog;
      return (lastEntryAt(entries) ?? -Infinity) + windowMs;
    }
    let latest = -Infinity;
    for (const exp of (value as Map<string, number>).values()) latest = Math.max(latest, exp);
    return latest;
  }

  private dropExpiredLeases(held: Map<string, number>, now: number): void {
    for (const [id, exp] of held) if (exp <= now) held.delete(id);
  }

  private read(r: AcquireRequest): KeyState {
    const p = r.policy;
    return {
      tat: p.gcra ? this.tatOf(r.key) : undefined,
      entries: p.window ? this.logs.get(r.key)?.entries : undefined,
      leases: p.concurrency ? this.leases.get(r.key) : undefined,
    };
  }

  private tatOf(key: string): number | undefined {
    const slot = this.tats.get(key);
    return slot === undefined ? undefined : this.tatTimes[slot];
  }

  /** A slot holding `tat` for a new key: a freed one, else the next (the table doubles when full). */
  private newTatSlot(tat: number): number {
    let slot = this.freeTatSlots.pop();
    if (slot === undefined) {
      slot = this.nextTatSlot++;
      if (slot === this.tatTimes.length) {
        const grown = new Float64Array(this.tatTimes.length * 2);
        grown.set(this.tatTimes);
        this.tatTimes = grown;
      }
    }
    this.tatTimes[slot] = tat;
    return slot;
  }

  /** Drops a key of `map` (`value`: its entry there), freeing its GCRA slot. */
  private drop(map: StateMap, key: string, value: unknown): void {
    map.delete(key);
    if (map === this.tats) this.freeTatSlots.push(value as number);
  }

  /** Whether applying `write` adds a key to a map that is at the cap (cheap: sizes first). */
  private needsRoom(key: string, write: LayerWrite): boolean {
    const max = this.maxKeys;
    return (
      (write.tat !== undefined && this.tats.size >= max && !this.tats.has(key)) ||
      (write.entries !== undefined && this.logs.size >= max && !this.logs.has(key)) ||
      (write.lease !== undefined && this.leases.size >= max && !this.leases.has(key))
    );
  }

  /**
   * Makes room for the new keys of an admitted acquisition by dropping keys that restrict
   * nothing. When the maps are full of keys that still restrict, the acquisition is refused
   * instead: forgetting such a key would lift its limit (a flood of new identifiers would
   * end a lockout). `refusedAt` names the layer refused, with its decision.
   */
  private makeRoom(
    requests: readonly AcquireRequest[],
    writes: readonly LayerWrite[],
    now: number,
  ): { evicted: number; refusedAt?: undefined } | { refusedAt: number; refusal: LayerDecision } {
    let evicted = 0;
    for (let i = 0; i < requests.length; i++) {
      for (let m = 0; m < this.stateMaps.length; m++) {
        const map = this.stateMaps[m];
        if (!writesTo(m, writes[i]) || map.has(requests[i].key)) continue;
        // New keys of earlier layers of this acquisition, not stored yet, need room too.
        let pending = 0;
        for (let j = 0; j < i; j++) {
          if (writesTo(m, writes[j]) && !map.has(requests[j].key)) pending++;
        }
        while (map.size + pending >= this.maxKeys) {
          const earliest = this.evictIdle(map, now);
          if (earliest !== undefined) {
            return { refusedAt: i, refusal: refusal(requests[i].policy, now, earliest) };
          }
          evicted++;
        }
      }
    }
    return { evicted };
  }

  /**
   * Drops one key of `map` that restricts nothing, examining at most {@link EVICTION_SCAN}
   * keys from where the previous call stopped. Returns undefined when it dropped one, else the
   * earliest expiry among the keys it examined (when room can be expected).
   */
  private evictIdle(map: StateMap, now: number): number | undefined {
    let it = this.evictors.get(map) ?? map.entries();
    let earliest = Infinity;
    let wrapped = false;
    for (let examined = 0; examined < EVICTION_SCAN;) {
      const next = it.next();
      if (next.done) {
        if (wrapped) break;
        wrapped = true;
        it = map.entries();
        continue;
      }
      examined++;
      const [k, value] = next.value;
      const expiry = this.expiryOf(map, value);
      if (expiry <= now) {
        this.drop(map, k, value);
        this.evictors.set(map, it);
        return undefined;
      }
      earliest = Math.min(earliest, expiry);
    }
    this.evictors.set(map, it);
    return earliest;
  }

  private notify(key: string): void {
    const set = this.listeners.get(key);
    if (set) for (const listener of [...set]) listener();
  }
}

/**
 * The decision for an acquisition refused because the store is full of keys that still
 * restrict: a rejection, with the earliest moment room can be expected as the retry delay.
 */
function refusal(policy: LimiterPolicy, now: number, earliestExpiry: number): LayerDecision {
  const retryAfterMs = Math.max(1, Math.ceil(earliestExpiry - now));
  return {
    allowed: false,
    waitMs: 0,
    retryAfterMs,
    limit: policyLimit(policy),
    remaining: 0,
    resetAt: now + retryAfterMs,
    inFlight: policy.concurrency ? 0 : undefined,
    blockedBy: policy.gcra || policy.window ? 'rate' : 'concurrency',
    refusedNewKey: true,
    now,
  };
}

/**
 * Whether a layer's admitted write stores state in the map numbered `m` (tats, logs, leases;
 * blocks are written only on rejections, after a key that already has rate state).
 */
function writesTo(m: number, w: LayerWrite): boolean {
  if (m === 0) return w.tat !== undefined;
  if (m === 1) return w.entries !== undefined;
  return m === 2 && w.lease !== undefined;
}
