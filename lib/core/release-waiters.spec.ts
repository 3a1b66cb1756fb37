import { ManualClock } from './clock';
import type { Engine, ReleaseWake } from './engines/engine';
import { MemoryEngine } from './engines/memory';
import type { Permit } from './permit';
import type { LimiterPolicy } from './policy';
import { storageKey } from './keys';
import { RateSync } from './rate-sync';

/**
 * A memory engine that behaves like a remote store: it answers asynchronously, counts acquire
 * calls, tells of a release after the release's own answer, and can release unheard (as while
 * a shared engine's subscription is down).
 */
class SlowEngine implements Engine {
  readonly kind = 'memory' as const;
  calls = 0;
  private readonly inner: MemoryEngine;
  constructor(clock: ManualClock) {
    this.inner = new MemoryEngine({ clock });
  }
  connect = (): Promise<void> => this.inner.connect();
  close = (): Promise<void> => this.inner.close();
  ping = (): Promise<void> => Promise.resolve();
  acquire(...args: Parameters<Engine['acquire']>): ReturnType<Engine['acquire']> {
    this.calls++;
    return this.inner.acquire(...args);
  }
  refund = (...args: Parameters<Engine['refund']>) => this.inner.refund(...args);
  renew = (...args: Parameters<Engine['renew']>) => this.inner.renew(...args);
  reset = (...args: Parameters<Engine['reset']>) => this.inner.reset(...args);
  /** Releases go unheard while true, as during an outage of a shared engine's subscription. */
  deaf = false;
  private readonly listeners = new Map<string, Set<ReleaseWake>>();
  /** Releases, and tells the listeners a turn of the event loop later, as pub/sub does. */
  async release(...args: Parameters<Engine['release']>): Promise<void> {
    await this.inner.release(...args);
    if (this.deaf) return;
    const listeners = [...(this.listeners.get(args[1]) ?? [])];
    setImmediate(() => listeners.forEach((l) => l()));
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

/** Lets pending notifications and every promise reaction run. */
const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 3; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
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
    return { rs, engine, clock, acquire };
  };

  it('serves a caller that released and asks again after the waiter its release woke', async () => {
    const { rs, acquire } = setup(1);
    const holder = await acquire();
    const waiter = acquire();
    await settle();
    await holder.release();
    const again = acquire(); // at once, as a worker loop does
    expect(await outcome(waiter)).not.toBe('still waiting');
    expect(await outcome(again)).toBe('still waiting');
    await (await waiter).release();
    expect(await outcome(again)).not.toBe('still waiting');
    await (await again).release();
    await rs.close();
  });

  it('a caller arriving while its process waits for the key joins behind without a store call', async () => {
    const { rs, engine, acquire } = setup(1);
    const holder = await acquire();
    const first = acquire();
    await settle();
    // A new queue: the first waiter asked again once subscribed.
    expect(engine.calls).toBe(1 + 2);
    const second = acquire();
    await settle();
    expect(engine.calls).toBe(3);
    await holder.release();
    const a = await first;
    expect(await outcome(second)).toBe('still waiting');
    await a.release();
    await (await second).release();
    expect(engine.calls).toBe(5); // each waiter's admission
    await rs.close();
  });

  it('asks the store on its own once a slot is expected to have freed', async () => {
    const { rs, engine, clock, acquire } = setup(1);
    const holder = await acquire();
    const first = acquire();
    await settle();
    const second = acquire(); // behind `first`, without a store call
    await settle();
    engine.deaf = true; // the slot frees unheard: `first` sleeps until its own re-check
    await holder.release();
    engine.deaf = false;
    expect(await outcome(second)).toBe('still waiting');
    // No hold seen yet: a slot is expected within 1 s (the default hold) / max_concurrent.
    await clock.advance(1000);
    expect(await outcome(second)).not.toBe('still waiting');
    await (await second).release();
    await (await first).release();
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
});
