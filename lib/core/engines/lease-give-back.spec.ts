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

  it('sends the release at once, then again until the store answers', async () => {
    let down = true;
    const sent: string[] = [];
    const g = new LeaseGiveBack(async (_key, id) => {
      sent.push(id);
      if (down) throw new Error('no reply');
    }, jest.fn());
    g.acquireFailed([request('a'), { ...request('dry'), dryRun: true }]);
    g.releaseFailed('slots', 'b');
    expect(sent).toEqual(['a', 'b']);
    await flushMicrotasks();
    await jest.advanceTimersByTimeAsync(50);
    expect(sent).toEqual(['a', 'b', 'a', 'b']);
    down = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(g.size).toBe(0);
    const settled = sent.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(sent.length).toBe(settled); // nothing left to send, no timer left
  });

  it('keeps at most MAX_LOST_LEASES, warning when it drops one', () => {
    const warn = jest.fn();
    const g = new LeaseGiveBack(() => new Promise(() => undefined), warn);
    for (let i = 0; i <= MAX_LOST_LEASES; i++) g.releaseFailed('slots', `l${i}`);
    expect(g.size).toBe(MAX_LOST_LEASES);
    expect(warn).toHaveBeenCalledTimes(1);
    g.close();
    expect(g.size).toBe(0);
  });
});
