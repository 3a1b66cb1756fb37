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
  private readonly queues = new Map<string, { waiters: Waiter[]; unsubscribe: () => void }>();

  constructor(private readonly engine: Engine) {}

  /** Whether callers of this process wait for a slot of `key`. */
  waiting(key: string): boolean {
    return this.queues.has(key);
  }

  /** Joins the queue of (policy, key). Subscribe before the first attempt so no release is missed. */
  join(policy: LimiterPolicy, key: string): Waiter {
    let queue = this.queues.get(key);
    if (!queue) {
      const waiters: Waiter[] = [];
      const unsubscribe = this.engine.onRelease(policy, key, (missed) => {
        if (!missed) return wakeNext(waiters);
        // Any number of slots may have been freed unheard: every waiter re-checks.
        for (const w of waiters) w.wake();
      });
      this.queues.set(key, (queue = { waiters, unsubscribe }));
    }
    const q = queue;
    const waiter = new Waiter(() => {
      const i = q.waiters.indexOf(waiter);
      if (i >= 0) q.waiters.splice(i, 1);
      if (waiter.woken) wakeNext(q.waiters);
      if (q.waiters.length === 0 && this.queues.get(key) === q) {
        this.queues.delete(key);
        q.unsubscribe();
      }
    });
    q.waiters.push(waiter);
    return waiter;
  }
}

function wakeNext(waiters: Waiter[]): void {
  waiters.find((w) => !w.woken)?.wake();
}

/** One caller's place in a {@link ReleaseWaiters} queue. */
export class Waiter {
  private controller = new AbortController();

  constructor(private readonly onLeave: () => void) {}

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
