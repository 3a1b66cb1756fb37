import { ManualClock } from '../../clock';
import { storageKey } from '../../keys';
import { toPolicy } from '../../policy';
import { MemoryEngine } from './memory.engine';

describe('MemoryEngine', () => {
  const tb = toPolicy('tb', { store: 's', ratePerSecond: 10 });
  const sw = toPolicy('sw', {
    store: 's',
    algorithm: 'sliding_window',
    limit: 2,
    windowSeconds: 1,
  });
  const req = (policy = tb, key = storageKey(policy.id, 'k')) => ({
    policy,
    key,
    cost: 1,
    maxWaitMs: 0,
  });

  it('caps tracked keys at maxKeys: new keys are refused while every tracked key restricts', async () => {
    const engine = new MemoryEngine({ clock: new ManualClock(), maxKeys: 100 });
    const decisions = [];
    for (let i = 0; i < 1000; i++) {
      decisions.push((await engine.acquire([req(tb, storageKey('tb', `k${i}`))]))[0]);
    }
    expect(engine.size).toBe(100);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
    // Each tracked key restricts for 100 ms (10 per second): room is expected then.
    expect(decisions[100]).toMatchObject({
      allowed: false,
      refusedNewKey: true,
      retryAfterMs: 100,
    });
    // The first keys were not forgotten: still limited.
    expect((await engine.acquire([req(tb, storageKey('tb', 'k0'))]))[0].allowed).toBe(false);
  });

  it('at maxKeys, drops a key that restricts nothing to make room, and says so', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) await engine.acquire([req(tb, storageKey('tb', k))]);
    await clock.advance(100); // every bucket full again: their state restricts nothing
    const [d] = await engine.acquire([req(tb, storageKey('tb', 'd'))]);
    expect(d).toMatchObject({ allowed: true, evictedKeys: 1 });
    expect(engine.size).toBe(3);
  });

  it('a flood of new keys does not lift a lockout (2 per 300 s, A A R, then 100 other keys)', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock, maxKeys: 100 });
    const login = toPolicy('login', {
      store: 's',
      algorithm: 'sliding_window',
      limit: 2,
      windowSeconds: 300,
    });
    const attempt = async (who: string) =>
      (await engine.acquire([req(login, storageKey('login', who))]))[0];
    expect((await attempt('A')).allowed).toBe(true);
    expect((await attempt('A')).allowed).toBe(true);
    expect((await attempt('A')).allowed).toBe(false);
    const flood = [];
    for (let i = 0; i < 100; i++) {
      await clock.advance(10);
      flood.push(await attempt(`other${i}`));
    }
    expect(flood.filter((d) => d.allowed)).toHaveLength(99);
    expect(flood[99]).toMatchObject({ allowed: false, refusedNewKey: true, blockedBy: 'rate' });
    expect((await attempt('A')).allowed).toBe(false);
    expect((await attempt('A')).allowed).toBe(false);
    // Room comes back when A's window has passed (A restricts until 300 s after its attempts).
    await clock.advance(300_000 - 1000);
    expect((await attempt('new')).allowed).toBe(true);
  });

  it('a composite writes nothing when one of its new keys finds no room', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock, maxKeys: 1 });
    await engine.acquire([req(sw, storageKey('sw', 'x'))]);
    const both = await engine.acquire([
      req(tb, storageKey('tb', 'y')),
      req(sw, storageKey('sw', 'y')),
    ]);
    expect(both.map((d) => d.allowed)).toEqual([true, false]);
    expect(engine.size).toBe(1);
    // The layer that would have passed was not charged, and says so (a fresh bucket: full).
    expect(both[0]).toMatchObject({ remaining: 1, resetAt: clock.now() });
  });

  it('sweeps in slices of bounded work, resuming where the previous slice stopped', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock, sweepSliceSize: 100 });
    for (let i = 0; i < 250; i++) await engine.acquire([req(tb, storageKey('tb', `k${i}`))]);
    for (let i = 0; i < 250; i++) await engine.acquire([req(sw, storageKey('sw', `k${i}`))]);
    await clock.advance(150); // token buckets full again; the window entries still live
    expect(engine.sweepSlice()).toBe(false);
    expect(engine.size).toBe(400); // 100 entries examined, 100 dropped
    expect(engine.sweepSlice()).toBe(false);
    expect(engine.sweepSlice()).toBe(false);
    expect(engine.size).toBe(250);
    // 250 + 250 entries: the pass ends within the sixth slice.
    expect([engine.sweepSlice(), engine.sweepSlice(), engine.sweepSlice()]).toEqual([
      false,
      false,
      true,
    ]);
    expect(engine.size).toBe(250);
    await clock.advance(1000);
    engine.sweep();
    expect(engine.size).toBe(0);
  });

  it('drops expired state on sweep', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock });
    await engine.acquire([req(tb)]);
    await engine.acquire([req(sw)]);
    await engine.acquire([
      { ...req(toPolicy('c', { store: 's', maxConcurrent: 1, leaseSeconds: 1 })), leaseId: 'l1' },
    ]);
    expect(engine.size).toBe(3);
    await clock.advance(999);
    engine.sweep();
    expect(engine.size).toBe(2);
    await clock.advance(2);
    engine.sweep();
    expect(engine.size).toBe(0);
  });

  it('writes nothing for a composite with one rejecting layer, or a dry run', async () => {
    const engine = new MemoryEngine({ clock: new ManualClock() });
    const first = await engine.acquire([req(tb), req(sw)]);
    expect(first.map((d) => d.allowed)).toEqual([true, true]);
    const second = await engine.acquire([req(sw), req(tb)]);
    expect(second.map((d) => d.allowed)).toEqual([true, false]);
    expect((await engine.acquire([{ ...req(sw), dryRun: true }]))[0].remaining).toBe(1);
  });

  it('notifies release listeners of that key only, and stops after unsubscribe', async () => {
    const engine = new MemoryEngine({ clock: new ManualClock() });
    const c = toPolicy('c', { store: 's', maxConcurrent: 2 });
    const heard: string[] = [];
    const off = engine.onRelease(c, 'c:a', () => heard.push('a'));
    engine.onRelease(c, 'c:b', () => heard.push('b'));
    await engine.acquire([{ ...req(c, 'c:a'), leaseId: 'x' }]);
    await engine.release(c, 'c:a', 'x');
    await engine.release(c, 'c:a', 'x');
    off();
    await engine.acquire([{ ...req(c, 'c:a'), leaseId: 'y' }]);
    await engine.release(c, 'c:a', 'y');
    expect(heard).toEqual(['a']);
  });

  it('keeps no timer per key and never holds the process open', async () => {
    const timers = (): number =>
      (process as unknown as { getActiveResourcesInfo(): string[] })
        .getActiveResourcesInfo()
        .filter((r) => r === 'Timeout').length;
    const before = timers();
    const engine = new MemoryEngine({ clock: new ManualClock() });
    await engine.connect();
    await engine.connect();
    for (let i = 0; i < 100; i++) await engine.acquire([req(tb, `tb:${i}`)]);
    expect(timers() - before).toBe(0); // the sweep timer is unref-ed: it never holds the process open
    await engine.close();
    expect(timers()).toBe(before);
  });

  it('does not revive an expired lease on renewal (its slot may belong to someone else)', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock });
    const c = toPolicy('c', { store: 's', maxConcurrent: 1, leaseSeconds: 1 });
    const take = (leaseId: string, dryRun = false) => ({ ...req(c, 'c'), leaseId, dryRun });
    expect((await engine.acquire([take('a')]))[0].allowed).toBe(true);
    await clock.advance(1500);
    expect((await engine.acquire([take('b')]))[0].allowed).toBe(true);
    await engine.renew(c, 'c', ['a']);
    expect((await engine.acquire([take('probe', true)]))[0].inFlight).toBe(1);
  });

  it('keeps each key’s token bucket apart when its state is dropped and the room reused', async () => {
    const clock = new ManualClock();
    const engine = new MemoryEngine({ clock });
    // Burst 1: a key admitted once is rejected until 100 ms later.
    const once = toPolicy('once', { store: 's', ratePerSecond: 10, burst: 1 });
    const take = async (k: string) =>
      (await engine.acquire([req(once, storageKey('once', k))]))[0].allowed;
    // Past the initial table (1,024 keys): every key keeps its own state.
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    for (const k of keys) expect(await take(k)).toBe(true);
    for (const k of keys) expect(await take(k)).toBe(false);
    await engine.reset(once, storageKey('once', 'k1'));
    expect(await take('new-after-reset')).toBe(true); // may take k1's freed room
    expect(await take('k1')).toBe(true); // reset: a full bucket again
    expect(await take('k2')).toBe(false); // untouched by the reuse
    await clock.advance(100);
    engine.sweep(); // every bucket full again: all dropped
    expect(engine.size).toBe(0);
    expect(await take('k5')).toBe(true);
    expect(await take('k6')).toBe(true);
    expect(await take('k5')).toBe(false);
  });
});
