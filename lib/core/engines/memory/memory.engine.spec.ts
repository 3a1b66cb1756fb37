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

  it('caps tracked keys at maxKeys, evicting the oldest', async () => {
    const engine = new MemoryEngine({ clock: new ManualClock(), maxKeys: 100 });
    for (let i = 0; i < 1000; i++) await engine.acquire([req(tb, storageKey('tb', `k${i}`))]);
    expect(engine.size).toBe(100);
    const newest = await engine.acquire([req(tb, storageKey('tb', 'k999'))]);
    expect(newest[0].allowed).toBe(false);
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
});
