import { gcra, gcraRemaining } from './gcra';

describe('gcra', () => {
  const p = { intervalMs: 100, burst: 3 };

  it('admits burst at once from an empty state, then asks for the interval', () => {
    let tat: number | undefined;
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const o = gcra(tat, 1000, p, 1, 0);
      if (o.allowed) tat = o.tat;
      seen.push([o.allowed, o.remaining, o.retryAfterMs]);
    }
    expect(seen).toEqual([
      [true, 2, 0],
      [true, 1, 0],
      [true, 0, 0],
      [false, 0, 100],
    ]);
  });

  it('reserves a future slot within maxWait and reports the exact wait', () => {
    const first = gcra(undefined, 0, { intervalMs: 100, burst: 1 }, 1, 0);
    const second = gcra(first.tat, 30, { intervalMs: 100, burst: 1 }, 1, 500);
    expect(second).toMatchObject({ allowed: true, waitMs: 70, tat: 200 });
    const third = gcra(second.tat, 30, { intervalMs: 100, burst: 1 }, 1, 100);
    expect(third).toMatchObject({ allowed: false, retryAfterMs: 170, tat: 200 });
  });

  it('does not accumulate idle time beyond burst', () => {
    const o = gcra(0, 1_000_000, p, 1, 0);
    expect(o.remaining).toBe(2);
    expect(gcraRemaining(0, 1_000_000, p)).toBe(3);
  });

  it('charges cost intervals and rejects what the tolerance cannot hold', () => {
    const o = gcra(undefined, 0, p, 3, 0);
    expect(o).toMatchObject({ allowed: true, remaining: 0, tat: 300 });
    expect(gcra(undefined, 0, p, 4, 0)).toMatchObject({ allowed: false, retryAfterMs: 100 });
  });

  it('counts exact thirds (no floating point loss at rate 3/s)', () => {
    const q = { intervalMs: 1000 / 3, burst: 3 };
    let tat: number | undefined;
    for (let i = 0; i < 3; i++) tat = gcra(tat, 0, q, 1, 0).tat;
    expect(gcraRemaining(tat!, 1000, q)).toBe(3);
    expect(gcraRemaining(tat!, 1000 / 3, q)).toBe(1);
  });

  it('is exact at the highest rate allowed (1e5/s) at an epoch-ms instant, and not at 1e7/s', () => {
    // Epoch milliseconds as a double step by 2^-12 ms: an interval must span many steps.
    const now = 1_796_293_623_364.123;
    const admittedOf1000 = (ratePerSecond: number): number => {
      const q = { intervalMs: 1000 / ratePerSecond, burst: 10 };
      let tat: number | undefined;
      let admitted = 0;
      for (let i = 0; i < 1000; i++) {
        const o = gcra(tat, now, q, 1, 0);
        if (o.allowed) [tat, admitted] = [o.tat, admitted + 1];
      }
      return admitted;
    };
    expect(admittedOf1000(100_000)).toBe(10);
    // Why rate_per_second is bounded: 1e7/s is below the clock's step and costs nothing.
    expect(admittedOf1000(10_000_000)).toBe(1000);
  });
});
