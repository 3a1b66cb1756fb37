import { slidingWindow, windowRemaining } from './sliding-window';

describe('slidingWindow', () => {
  const p = { limit: 3, windowMs: 1000 };

  it('admits limit in a window, then rejects with the time the oldest entry leaves', () => {
    let log: number[] = [];
    for (const t of [0, 100, 200]) log = slidingWindow(log, t, p, 1, 0).entries;
    const o = slidingWindow(log, 300, p, 1, 0);
    expect(o).toMatchObject({ allowed: false, retryAfterMs: 700, remaining: 0 });
    expect(o.entries).toEqual([0, 100, 200]);
    expect(slidingWindow(log, 1000, p, 1, 0).allowed).toBe(true);
  });

  it('records a reservation at the earliest instant that keeps every window within limit', () => {
    let log = [0, 100, 200];
    const a = slidingWindow(log, 300, p, 1, 5000);
    expect(a).toMatchObject({ allowed: true, waitMs: 700 });
    log = a.entries;
    expect(log).toEqual([0, 100, 200, 1000]);
    const b = slidingWindow(log, 300, p, 1, 5000);
    expect(b.waitMs).toBe(800);
    const c = slidingWindow(b.entries, 300, p, 2, 5000);
    expect(c.waitMs).toBe(1700);
  });

  it('never lets any window hold more than limit, whatever the sequence', () => {
    let log: number[] = [];
    const admitted: number[] = [];
    for (let i = 0; i < 200; i++) {
      const now = i * 37;
      const cost = 1 + (i % 2);
      const o = slidingWindow(log, now, p, cost, i % 3 === 0 ? 2000 : 0);
      if (o.allowed) {
        log = o.entries;
        for (let k = 0; k < cost; k++) admitted.push(now + o.waitMs);
      }
    }
    admitted.sort((a, b) => a - b);
    for (const t of admitted) {
      const inWindow = admitted.filter((x) => x > t - p.windowMs && x <= t).length;
      expect(inWindow).toBeLessThanOrEqual(p.limit);
    }
  });

  it('counts only live entries as used', () => {
    expect(windowRemaining([0, 500, 900], 1200, p)).toBe(1);
  });

  it('rejects a cost above the limit (it can never be admitted)', () => {
    const o = slidingWindow([], 1000, { limit: 2, windowMs: 1000 }, 3, 5000);
    expect(o).toMatchObject({ allowed: false, retryAfterMs: Infinity, entries: [] });
  });
});
