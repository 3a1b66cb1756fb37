import type { LimiterPolicy } from '../policy';
import type { EngineName } from '../options';

/**
 * One layer of an acquisition, as sent to an engine. An engine decides a list of layers
 * all-or-nothing: either every layer is admitted and written, or nothing is written.
 */
export interface AcquireRequest {
  readonly policy: LimiterPolicy;
  /**
   * The storage key of (limiter, identifier), made by `storageKey()`: safe for any engine
   * (no spaces, braces, colons other than the one separator), bounded length.
   */
  readonly key: string;
  /** Units to take (GCRA advances `cost * T`, the window records `cost` entries). >= 1. */
  readonly cost: number;
  /**
   * Milliseconds the caller accepts to wait for a rate slot. If the wait `w` is within it the
   * slot is reserved and `waitMs = w` is returned. `Infinity` allowed (no bound).
   */
  readonly maxWaitMs: number;
  /** Id of the lease to create when the policy has concurrency. */
  readonly leaseId?: string;
  /** Decide without writing anything (check without consuming, state). */
  readonly dryRun?: boolean;
}

/** An engine's decision for one layer. */
export interface LayerDecision {
  readonly allowed: boolean;
  /** When allowed: milliseconds until the reserved slot (sleep this long first). */
  readonly waitMs: number;
  /** When rejected: milliseconds until a retry can succeed (for concurrency, the earliest lease expiry). */
  readonly retryAfterMs: number;
  readonly limit: number;
  /** After this decision. Never negative. */
  readonly remaining: number;
  /** Epoch ms (store clock) when the key is back to full capacity. */
  readonly resetAt: number;
  /**
   * Epoch ms on the store's clock at which this decision was made: the clock of `resetAt`
   * (memory: its clock; Redis: the script's `TIME`; PostgreSQL: the statement's
   * `clock_timestamp()`). `resetAt - now` is the time until the reset whatever this process's
   * clock says.
   */
  readonly now: number;
  /** Concurrency slots held after this decision, when the policy has concurrency. */
  readonly inFlight?: number;
  /** When rejected: which part rejected. */
  readonly blockedBy?: 'rate' | 'concurrency';
  /**
   * Memory engine at `max_keys`: keys that restricted nothing any more, dropped to make room
   * for this decision's new key(s).
   */
  readonly evictedKeys?: number;
  /**
   * Memory engine at `max_keys`: rejected because every tracked key still restricts, so this
   * new key could only have been stored by forgetting another key's limit.
   */
  readonly refusedNewKey?: boolean;
  /**
   * Sliding window, when admitted and consumed: the time (epoch ms, store clock; in the future
   * for a reservation) of the one entry this admission recorded. A refund names it to remove
   * exactly that entry.
   */
  readonly entryAt?: number;
}

/**
 * What one admitted layer took, as given back by {@link Engine.refund}: built from the
 * {@link AcquireRequest} and its {@link LayerDecision}.
 */
export interface RefundRequest {
  readonly policy: LimiterPolicy;
  readonly key: string;
  /** The cost the layer was admitted with. */
  readonly cost: number;
  /** Sliding window: the admission's entry ({@link LayerDecision.entryAt}). */
  readonly entryAt?: number;
}

/** See {@link Engine.onRelease}. */
export type ReleaseWake = (missed?: boolean) => void;

/**
 * A storage engine. Implementations: memory (the reference), redis, postgres. Every method
 * is one atomic step on the store, using the store's clock.
 */
export interface Engine {
  readonly kind: EngineName;
  /**
   * Connects (and for postgres, creates its schema objects). Rejects if unreachable, and on a
   * shared engine (Redis, PostgreSQL) after close(): see `engine-closed.error.ts`.
   */
  connect(): Promise<void>;
  /** Closes every client, pool and timer. Idempotent. Final on shared engines: no reopening. */
  close(): Promise<void>;
  /**
   * Asks the store whether it answers (Redis `PING`, PostgreSQL `SELECT 1`; memory always
   * does), without reading or writing any limiter state. Resolves when it answered, rejects
   * otherwise. `timeoutMs` is how long the caller waits for the answer (it stops waiting then,
   * whatever the engine does): an engine bounds by it what it holds for the ping, such as a
   * pooled connection. Health probes call it at most once a second per store.
   */
  ping(timeoutMs: number): Promise<void>;
  /**
   * Decides the layers all-or-nothing and returns one decision per layer, in order. When any
   * layer rejects, nothing is written and every returned decision has `allowed: false` except
   * those that would have passed: their `allowed` is true, and as nothing was consumed they
   * report the state as it is (as a dry run does); callers must look at every layer.
   */
  acquire(requests: readonly AcquireRequest[]): Promise<LayerDecision[]>;
  /**
   * Gives back the rate units of admitted layers, each in one atomic step on the store's clock
   * (the reference rule is in `algorithms/refund.ts`):
   * - token bucket: `tat = max(tat - cost * T, now)`, nothing when the key has no state. The
   *   bucket gets back at most what the admission took, and never more than a full bucket, so
   *   over any interval the admissions stay within `burst + elapsed / T + refunded units`;
   * - sliding window: removes the one entry recorded at `entryAt` with weight `cost` (entries
   *   with the same time and weight are interchangeable for every later decision); nothing when
   *   it is gone (expired, reset).
   * Concurrency leases are not touched here (they are released). Each layer is refunded at
   * most once by its caller: the engine cannot tell a second refund from a first.
   */
  refund(requests: readonly RefundRequest[]): Promise<void>;
  /** Deletes a lease. Idempotent; an unknown lease is a no-op. */
  release(policy: LimiterPolicy, key: string, leaseId: string): Promise<void>;
  /** Extends the given held leases to now + leaseMs. Unknown ones are ignored. */
  renew(policy: LimiterPolicy, key: string, leaseIds: readonly string[]): Promise<void>;
  /** Deletes all state of one key, or of every key of the limiter when `key` is undefined. */
  reset(policy: LimiterPolicy, key?: string): Promise<void>;
  /**
   * Calls `listener` when a lease of (policy, key) is released anywhere (this process or, for
   * shared engines, another). Returns the unsubscribe function. A shared engine also calls it
   * with `missed` true when releases may have gone unheard: once its subscription is in place,
   * and again whenever it is re-established after an outage (any number of slots may have been
   * freed meanwhile).
   */
  onRelease(policy: LimiterPolicy, key: string, listener: ReleaseWake): () => void;
  /**
   * Optional, shared engines: records that the process instance `instanceId` is alive for
   * `ttlMs` (store clock) and returns how many instances are alive, itself included. One store
   * call; degraded mode calls it every few seconds, never per decision.
   */
  heartbeat?(instanceId: string, ttlMs: number): Promise<number>;
  /** Optional, with `heartbeat`: removes the instance's heartbeat (a graceful exit). */
  leaveFleet?(instanceId: string): Promise<void>;
  /**
   * Optional: decides synchronously, for in-process engines. When present, decisions that
   * need no waiting and no lease skip the promise chain. Must behave exactly like `acquire`.
   */
  acquireSync?(requests: readonly AcquireRequest[]): LayerDecision[];
}
