import { ManualClock } from './clock';
import type { Engine, ReleaseWake } from './engines/engine';
import { MemoryEngine } from './engines/memory';
import type { Permit } from './permit';
import type { LimiterPolicy } from './policy';
import { storageKey } from './keys';
import { RateSync } from './rate-sync';

/**
 * A memory engine answering asynchronously, like a remote store, that counts acquire calls and
 * can hold a decision's answer back: decided at call time, delivered when `deliver()` is called.
 */
class SlowEngine implements Engine {
  readonly kind = 'memory' as const;
  calls = 0;
  /** How many of the next acquire calls have their answer held back. */
  hold = 0;
  private readonly held: (() => void)[] = [];
  private readonly inner: MemoryEngine;
  constructor(clock: ManualClock) {
    this.inner = new MemoryEngine({ clock });
  }
  connect = (): Promise<void> => this.inner.connect();
  close = (): Promise<void> => this.inner.close();
  ping = (): Promise<void> => Promise.resolve();
  acquire(...args: Parameters<Engine['acquire']>): ReturnType<Engine['acquire']> {
    this.calls++;
    const decided = this.inner.acquire(...args);
    if (this.hold === 0) return decided;
    this.hold--;
    return new Promise((resolve) => this.held.push(() => resolve(decided)));
  }
  /** Delivers the oldest held answer. */
  deliver(): void {
    this.held.shift()?.();
  }
  refund = (...args: Parameters<Engine['refund']>) => this.inner.refund(...args);
  renew = (...args: Parameters<Engine['renew']>) => this.inner.renew(...args);
  reset = (...args: Parameters<Engine['reset']>) => this.inner.reset(...args);
  /** Releases go unheard while true, as during an outage of a shared engine's subscription. */
  deaf = false;
  private readonly listeners = new Map<string, Set<ReleaseWake>>();
  async release(...args: Parameters<Engine['release']>): Promise<void> {
    await this.inner.release(...args);
    if (!this.deaf) this.listeners.get(args[1])?.forEach((l) => l());
  }
  onRelease(_policy: LimiterPolicy, key: string, listener: ReleaseWake): () => void {
    const set = this.listeners.get(key) ?? new Set<ReleaseWake>();
    this.listeners.set(key, set.add(listener));
    return () => set.delete(listener);
  }
  /** What a shared engine does when its subscription comes (back) up. */
  missed(key: string): void {
    this.listeners.get(key)?.forEach((l) => l(true));
  }
}

/** Lets every pending promise reaction run (the engine answers within a few hops). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** The permit `acquisition` has given once every pending reaction ran, or 'still waiting'. */
const outcome = async (acquisition: Promise<Permit>): Promise<Permit | 'still waiting'> => {
  let value: Permit | 'still waiting' = 'still waiting';
  void acquisition.then((p) => (value = p));
  await settle();
  return value;
};

describe('waiting for a released slot', () => {
  const setup = (maxConcurrent: number) => {
    const clock = new ManualClock();
    const engine = new SlowEngine(clock);
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: { slots: { store: 's', maxConcurrent, leaseSeconds: 600 } },
      },
      { clock, createEngine: () => engine },
    );
    /** Starts an acquisition that may wait; resolves with its permit. */
    const acquire = (): Promise<Permit> => rs.acquire('slots', { key: 'k', timeout: 300 });
    return { rs, engine, acquire };
  };

  /**
   * Two slots, held by `h2` and by `p1` (the first waiter, served by a release that was heard),
   * the second waiter `w2` queued on a listening queue, and `late`: a call decided now
   * (rejected) whose answer the engine holds back.
   */
  const lateCallBesideListeningQueue = async () => {
    const s = setup(2);
    const h1 = await s.acquire();
    const h2 = await s.acquire();
    const w1 = s.acquire();
    const w2 = s.acquire();
    await settle();
    await h1.release();
    const p1 = await w1;
    s.engine.hold = 1;
    const late = s.acquire();
    await settle();
    return { ...s, h2, p1, w2, late };
  };

  it('a caller joining a queue that listens sleeps after one call, served in turn', async () => {
    const { rs, engine, acquire } = setup(1);
    const holder = await acquire();
    const first = acquire();
    const second = acquire();
    await settle();
    // A new queue: each of the first two asked again once subscribed.
    expect(engine.calls).toBe(1 + 2 + 2);
    await holder.release();
    const a = await first; // the queue has now delivered a release: it is listening
    engine.calls = 0;
    const third = acquire();
    await settle();
    expect(engine.calls).toBe(1); // rejected once, then asleep without a second call
    await a.release();
    const b = await second;
    await b.release();
    const c = await third;
    expect(engine.calls).toBe(3); // the second's and the third's admissions
    await c.release();
    await rs.close();
  });

  it('asks the store again when a release reached no waiter during its call', async () => {
    const { rs, engine, h2, p1, w2, late } = await lateCallBesideListeningQueue();
    // Two releases in one turn: the first wakes w2, the second finds every waiter woken.
    engine.hold = 1; // w2's call: it takes one of the two slots, answered later
    void p1.release();
    void h2.release();
    await settle();
    expect(engine.calls).toBe(1 + 1 + 2 + 2 + 1 + 1 + 1);
    engine.deliver(); // `late` is rejected and joins the queue w2 is still in
    // One slot is still free and no release will come: only a second call can find it.
    const p3 = await outcome(late);
    expect(p3).not.toBe('still waiting');
    engine.deliver();
    const p2 = await w2;
    await Promise.all([p2.release(), (await late).release()]);
    await rs.close();
  });

  it('asks the store again when the queue it saw went away and came back', async () => {
    const { rs, engine, acquire } = setup(1);
    const holder = await acquire();
    const w1 = acquire();
    const w2 = acquire();
    await settle();
    await holder.release();
    const p1 = await w1; // listening, with w2 in it
    engine.hold = 1;
    const late = acquire(); // rejected: p1 holds the slot
    await settle();
    await p1.release(); // w2 takes the slot and the queue empties
    const p2 = await w2;
    await p2.release(); // the slot is free, and nobody listens for this key
    engine.deliver();
    // A new queue: it asks again and finds the free slot.
    expect(await outcome(late)).not.toBe('still waiting');
    await (await late).release();
    await rs.close();
  });

  it('lets every waiter re-check when releases may have gone unheard', async () => {
    const { rs, engine, acquire } = setup(2);
    const h1 = await acquire();
    const h2 = await acquire();
    const w1 = acquire();
    const w2 = acquire();
    await settle();
    engine.deaf = true; // both slots freed while the subscription is down
    await Promise.all([h1.release(), h2.release()]);
    engine.deaf = false;
    expect(await outcome(w1)).toBe('still waiting');
    engine.missed(storageKey('slots', 'k')); // the subscription is back
    const [p1, p2] = [await outcome(w1), await outcome(w2)];
    expect(p1).not.toBe('still waiting');
    expect(p2).not.toBe('still waiting');
    await Promise.all([(await w1).release(), (await w2).release()]);
    await rs.close();
  });

  it('asks the store again when releases went unheard while its call was out', async () => {
    const { rs, engine, h2, p1, w2, late } = await lateCallBesideListeningQueue();
    engine.deaf = true;
    await Promise.all([p1.release(), h2.release()]);
    engine.deaf = false;
    engine.hold = 1; // w2's re-check: it takes one of the two slots, answered later
    engine.missed(storageKey('slots', 'k'));
    await settle();
    engine.deliver(); // `late` joins the queue w2 is still in: only a second call finds the other slot
    expect(await outcome(late)).not.toBe('still waiting');
    engine.deliver();
    await Promise.all([(await w2).release(), (await late).release()]);
    await rs.close();
  });
});
