import { gcra } from './gcra';
import { gcraRefund, windowRefund } from './refund';
import { slidingWindow } from './sliding-window';

describe('gcraRefund', () => {
  const p = { intervalMs: 100, burst: 3 };

  it('moves tat back by cost * T', () => {
    const a = gcra(undefined, 0, p, 1, 0);
    const b = gcra(a.tat, 0, p, 2, 0);
    expect(gcraRefund(b.tat, 0, p, 2)).toBe(a.tat);
  });

  it('never before now: a refund gives back no more than a full bucket', () => {
    expect(gcraRefund(150, 120, p, 1)).toBe(120);
    expect(gcraRefund(50, 120, p, 1)).toBe(120);
  });

  it('changes nothing on a key without state', () => {
    expect(gcraRefund(undefined, 0, p, 1)).toBeUndefined();
  });
});

describe('windowRefund', () => {
  const p = { limit: 5, windowMs: 1000 };

  it('removes the entry recorded at that time with that weight, not another', () => {
    const a = slidingWindow([], 0, p, 1, 0);
    const b = slidingWindow(a.entries, 10, p, 2, 0);
    const c = slidingWindow(b.entries, 20, p, 1, 0);
    expect(b.at).toBe(10);
    expect(windowRefund(c.entries, b.at!, 2)).toEqual([0, 1, 20, 1]);
    // Same time, other weight: not this admission's entry.
    expect(windowRefund(c.entries, 10, 1)).toBe(c.entries);
  });

  it('removes a future-dated reservation', () => {
    const full = slidingWindow([], 0, { limit: 1, windowMs: 1000 }, 1, 0);
    const reserved = slidingWindow(full.entries, 0, { limit: 1, windowMs: 1000 }, 1, 5000);
    expect(reserved.at).toBe(1000);
    expect(windowRefund(reserved.entries, 1000, 1)).toEqual([0, 1]);
  });
});
