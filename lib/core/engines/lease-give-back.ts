import { RateSyncError } from '../errors';
import type { AcquireRequest } from './engine';

/** Leases waiting to be given back at most; past it the oldest is left to expire. */
export const MAX_LOST_LEASES = 10_000;

/** Delay before sending again the releases that failed: 50 ms doubling to 1 s. */
const retryDelayMs = (failures: number): number => Math.min(1000, 50 * 2 ** Math.min(failures, 5));

/**
 * Gives back the leases that no caller holds: those of an acquire call that failed on the
 * client (timed out, or the connection dropped with the call in flight) and those whose
 * release failed. Such a call may have run, or may still run: a frozen Redis (SIGSTOP, a long
 * fork, a saturated host) runs the commands waiting on its socket when it resumes, and a
 * PostgreSQL whose reply was lost has committed; each such acquire holds a slot for nobody
 * until `lease_seconds` passes.
 *
 * The release is sent at once: on Redis it queues on the store's one connection behind the
 * failed call, and Redis runs a connection's commands in order, so a resumed Redis deletes
 * each such lease right after creating it, before any later decision. A release that fails is
 * sent again until one is answered (releasing is idempotent): one timer (50 ms doubling to 1 s)
 * sends one of them, and once the store answers it, all the others; an outage thus costs one
 * attempt per tick, not one per lease. No clock is compared with the store's, which stays the
 * only time in decisions.
 */
export class LeaseGiveBack {
  /** Lease id to its storage key. */
  private readonly pending = new Map<string, string>();
  private readonly sending = new Set<string>();
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private closed = false;

  constructor(
    /** Deletes one lease on the store; rejects when the store did not answer. */
    private readonly release: (storageKey: string, leaseId: string) => Promise<unknown>,
    private readonly warn: (message: string) => void,
  ) {}

  /** The leases an acquire call would have created: given back now, and until answered. */
  acquireFailed(requests: readonly AcquireRequest[]): void {
    for (const r of requests) {
      if (r.leaseId && r.policy.concurrency && !r.dryRun) this.add(r.key, r.leaseId);
    }
  }

  /**
   * Releases a lease now. When that fails the lease is given back later, until answered, and
   * the call still rejects (the store failed: for the breaker and the log), saying so.
   */
  async releaseNow(storageKey: string, leaseId: string): Promise<void> {
    try {
      await this.release(storageKey, leaseId);
    } catch (err) {
      this.add(storageKey, leaseId, false);
      const message = (err as { message?: unknown } | null)?.message;
      throw new RateSyncError(
        `${String(message ?? err)}; the release is retried once the store answers`,
        {
          cause: (err as { cause?: unknown }).cause ?? err,
        },
      );
    }
  }

  /** Number of leases not given back yet. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Stops retrying. What is pending is sent one last time without waiting (on Redis it queues
   * before the client's QUIT); a lease still not given back frees itself when it expires.
   */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [leaseId, key] of this.pending) {
      this.release(key, leaseId).catch(() => undefined); // expires with its lease, said above
    }
    this.pending.clear();
  }

  private add(storageKey: string, leaseId: string, sendNow = true): void {
    if (this.closed) return;
    if (this.pending.size >= MAX_LOST_LEASES) {
      const [oldest] = this.pending.keys();
      this.pending.delete(oldest);
      this.warn(
        `more than ${MAX_LOST_LEASES} leases wait to be given back; the oldest frees itself when it expires`,
      );
    }
    this.pending.set(leaseId, storageKey);
    if (sendNow) this.send(leaseId);
    else this.retryLater();
  }

  private send(leaseId: string): void {
    const key = this.pending.get(leaseId);
    if (key === undefined || this.sending.has(leaseId)) return;
    this.sending.add(leaseId);
    this.release(key, leaseId).then(
      () => {
        this.sending.delete(leaseId);
        this.pending.delete(leaseId);
        if (this.failures === 0) return;
        this.failures = 0; // the store answers again: the others now
        for (const other of this.pending.keys()) this.send(other);
      },
      () => {
        this.sending.delete(leaseId);
        this.retryLater();
      },
    );
  }

  private retryLater(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const [first] = this.pending.keys();
      if (first !== undefined) this.send(first);
    }, retryDelayMs(this.failures++));
    this.timer.unref();
  }
}
