import type { Clock } from './clock';
import type { LayerDecision } from './engines/engine';

/** Bound of one limiter's cache of keys known to be rejected. */
const MAX_KEYS = 10_000;

/** What a store said when it rejected a key, kept to answer the next calls without it. */
interface Rejection {
  /** This process's clock, ms: before it a cost-1 acquisition is certainly rejected. */
  readonly until: number;
  readonly limit: number;
  /** The reset the store reported, epoch ms on the store's clock. */
  readonly resetAt: number;
  /** The store's clock minus this process's clock when the store decided, ms. */
  readonly offset: number;
}

/** A key's known rejection, as of now. */
export interface KnownRejection {
  /** Ms until a cost-1 acquisition can pass. > 0. */
  readonly retryAfterMs: number;
  readonly limit: number;
  /** Epoch ms on the store's clock, as the store reported it. */
  readonly resetAt: number;
  /** The store's clock now (this process's clock plus the offset seen when the store decided). */
  readonly now: number;
}

/**
 * One limiter's bounded cache of keys a shared store rejected for rate, so that calls which
 * cannot pass are answered without a round trip. While a key is in it, its remaining capacity is
 * 0 (a cost-1 rate rejection leaves none until the retry time); its reset is the store's.
 */
export class KnownRejections {
  private readonly byKey = new Map<string, Rejection>();

  constructor(private readonly clock: Clock) {}

  /** Remembers the store's rejection `d` of a cost-1 acquisition of `key`. */
  note(key: string, d: LayerDecision): void {
    if (this.byKey.size >= MAX_KEYS) this.prune();
    if (this.byKey.size >= MAX_KEYS) return;
    const now = this.clock.now();
    this.byKey.set(key, {
      until: now + d.retryAfterMs,
      limit: d.limit,
      resetAt: d.resetAt,
      offset: d.now - now,
    });
  }

  /** The rejection of `key` known now, or undefined (unknown, or over). */
  get(key: string): KnownRejection | undefined {
    if (this.byKey.size === 0) return undefined;
    const r = this.byKey.get(key);
    if (r === undefined) return undefined;
    const now = this.clock.now();
    const retryAfterMs = r.until - now;
    if (retryAfterMs <= 0) {
      this.byKey.delete(key);
      return undefined;
    }
    return { retryAfterMs, limit: r.limit, resetAt: r.resetAt, now: now + r.offset };
  }

  /** Forgets one key, or every key. */
  forget(key?: string): void {
    if (key === undefined) this.byKey.clear();
    else this.byKey.delete(key);
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [k, r] of this.byKey) if (r.until <= now) this.byKey.delete(k);
  }
}
