import type { Engine } from './engines/engine';
import type { LimiterPolicy } from './policy';

/**
 * In-process FIFO of callers waiting for a concurrency slot of one key. One engine
 * subscription per key however many wait; each release wakes the longest waiter only, so
 * waiters are served in arrival order and a release does not stampede. When the engine says
 * releases may have gone unheard (its subscription just came up, or back), every waiter
 * re-checks.
 */
export class ReleaseWaiters {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly engine: Engine) {}

  /**
   * Taken before a store call that may reject for `key`'s slots: passed to {@link join}, it
   * tells whether every release since then has reached this process's queue (see
   * {@link Waiter.covered}). Undefined when the key has no queue whose subscription has
   * delivered anything yet.
   */
  mark(key: string): QueueMark | undefined {
    const queue = this.queues.get(key);
    return queue?.active ? { queue, drops: queue.drops } : undefined;
  }

  /**
   * Joins the queue of (policy, key). Subscribe before the first attempt so no release is
   * missed, unless the waiter is {@link Waiter.covered} by `since`.
   */
  join(policy: LimiterPolicy, key: string, since?: QueueMark): Waiter {
    let queue = this.queues.get(key);
    if (!queue) {
      const q: Queue = { waiters: [], unsubscribe: () => undefined, active: false, drops: 0 };
      q.unsubscribe = this.engine.onRelease(policy, key, (missed) => {
        q.active = true;
        if (!missed) return wakeNext(q);
        // Any number of slots may have been freed unheard: every waiter re-checks, and a
        // caller whose store call is still out does too (its mark no longer covers it).
        for (const w of q.waiters) w.wake();
        q.drops++;
      });
      this.queues.set(key, (queue = q));
    }
    const q = queue;
    const covered = since !== undefined && since.queue === q && since.drops === q.drops;
    const waiter = new Waiter(covered, () => {
      const i = q.waiters.indexOf(waiter);
      if (i >= 0) q.waiters.splice(i, 1);
      if (waiter.woken) wakeNext(q);
      if (q.waiters.length === 0 && this.queues.get(key) === q) {
        this.queues.delete(key);
        q.unsubscribe();
      }
    });
    q.waiters.push(waiter);
    return waiter;
  }
}

/** One key's queue and its subscription. */
interface Queue {
  readonly waiters: Waiter[];
  unsubscribe: () => void;
  /** The subscription has called its listener: it is in place (see ReleaseWaiters.mark). */
  active: boolean;
  /**
   * Wake-ups that found every waiter already woken, and calls for releases that went unheard:
   * a joiner may have needed them.
   */
  drops: number;
}

/** See {@link ReleaseWaiters.mark}. */
export interface QueueMark {
  readonly queue: object;
  readonly drops: number;
}

function wakeNext(q: Queue): void {
  const next = q.waiters.find((w) => !w.woken);
  if (next) next.wake();
  else q.drops++;
}

/** One caller's place in a {@link ReleaseWaiters} queue. */
export class Waiter {
  private controller = new AbortController();

  constructor(
    /**
     * True when, from the store call its mark was taken before until it joined, the key's queue
     * stayed in place with its subscription live and no wake-up went unused: a release after
     * that call's decision has woken a waiter ahead of this one (or this one, once it sleeps),
     * so the caller need not ask the store again before it sleeps.
     */
    readonly covered: boolean,
    private readonly onLeave: () => void,
  ) {}

  /** True when a release was signalled to this waiter since it last re-armed. */
  get woken(): boolean {
    return this.controller.signal.aborted;
  }

  /** Aborts when a release is signalled to this waiter. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  wake(): void {
    this.controller.abort();
  }

  /** Before each attempt: forget past wake-ups, keep the place in the queue. */
  rearm(): void {
    if (this.woken) this.controller = new AbortController();
  }

  /** Leaves the queue; an unused wake-up passes to the next waiter. */
  leave(): void {
    this.onLeave();
  }
}
