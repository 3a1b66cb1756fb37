import { flushMicrotasks } from '../clock';
import { toPolicy } from '../policy';
import { LeaseGiveBack, MAX_LOST_LEASES } from './lease-give-back';

describe('LeaseGiveBack', () => {
  const slots = toPolicy('slots', { store: 's', maxConcurrent: 3 });
  const request = (leaseId: string) => ({
    policy: slots,
    key: 'slots',
    cost: 1,
    maxWaitMs: 0,
    leaseId,
  });

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the release at once, then one per tick until the store answers, then the rest', async () => {
    let down = true;
    const sent: string[] = [];
    const g = new LeaseGiveBack(async (_key, id) => {
      sent.push(id);
      if (down) throw new Error('no reply');
    }, jest.fn());
    g.acquireFailed([request('a'), { ...request('dry'), dryRun: true }]);
    await expect(g.releaseNow('slots', 'b')).rejects.toThrow(
      'no reply; the release is retried once the store answers',
    );
    expect(sent).toEqual(['a', 'b']);
    await flushMicrotasks();
    await jest.advanceTimersByTimeAsync(50); // one attempt per tick while the store is down
    expect(sent).toEqual(['a', 'b', 'a']);
    await jest.advanceTimersByTimeAsync(100);
    expect(sent).toEqual(['a', 'b', 'a', 'a']);
    down = false;
    await jest.advanceTimersByTimeAsync(200); // answered: then the others
    expect(sent).toEqual(['a', 'b', 'a', 'a', 'a', 'b']);
    expect(g.size).toBe(0);
    const settled = sent.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(sent.length).toBe(settled); // nothing left to send, no timer left
  });

  it('keeps at most MAX_LOST_LEASES, warning when it drops one', () => {
    const warn = jest.fn();
    const g = new LeaseGiveBack(() => new Promise(() => undefined), warn);
    for (let i = 0; i <= MAX_LOST_LEASES; i++) g.acquireFailed([request(`l${i}`)]);
    expect(g.size).toBe(MAX_LOST_LEASES);
    expect(warn).toHaveBeenCalledTimes(1);
    g.close();
    expect(g.size).toBe(0);
  });
});
