import { slidingWindow, windowRemaining, type WindowLog } from './sliding-window';

/** A log of entries of weight 1 at the given times. */
const units = (...times: number[]): WindowLog => times.flatMap((at) => [at, 1]);

describe('slidingWindow', () => {
  const p = { limit: 3, windowMs: 1000 };

  it('admits limit in a window, then rejects with the time the oldest entry leaves', () => {
    let log: WindowLog = [];
    for (const t of [0, 100, 200]) log = slidingWindow(log, t, p, 1, 0).entries;
    const o = slidingWindow(log, 300, p, 1, 0);
    expect(o).toMatchObject({ allowed: false, retryAfterMs: 700, remaining: 0 });
    expect(o.entries).toEqual(units(0, 100, 200));
    expect(slidingWindow(log, 1000, p, 1, 0).allowed).toBe(true);
  });

  it('never changes the log it is given (it may return it when nothing is added)', () => {
    const log = Object.freeze(units(0, 100, 900));
    // Admitted now, after the oldest entry expired, as a reservation; then rejected.
    expect(slidingWindow(log, 950, { limit: 4, windowMs: 1000 }, 1, 0).entries).toEqual(
      units(0, 100, 900, 950),
    );
    expect(slidingWindow(log, 1050, p, 1, 0).entries).toEqual(units(100, 900, 1050));
    expect(slidingWindow(log, 950, p, 1, 200).entries).toEqual(units(0, 100, 900, 1000));
    expect(slidingWindow(log, 950, p, 1, 0)).toMatchObject({ allowed: false, remaining: 0 });
    expect(log).toEqual(units(0, 100, 900));
  });

  it('records a reservation at the earliest instant that keeps every window within limit', () => {
    let log: WindowLog = units(0, 100, 200);
    const a = slidingWindow(log, 300, p, 1, 5000);
    expect(a).toMatchObject({ allowed: true, waitMs: 700 });
    log = a.entries;
    expect(log).toEqual(units(0, 100, 200, 1000));
    const b = slidingWindow(log, 300, p, 1, 5000);
    expect(b.waitMs).toBe(800);
    const c = slidingWindow(b.entries, 300, p, 2, 5000);
    expect(c.waitMs).toBe(1700);
  });

  it('records a cost as one entry carrying its weight, whatever the cost', () => {
    const big = { limit: 1_000_000, windowMs: 1000 };
    const o = slidingWindow([], 0, big, 200_000, 0);
    expect(o).toMatchObject({ allowed: true, remaining: 800_000 });
    expect(o.entries).toEqual([0, 200_000]);
    const full = slidingWindow(o.entries, 10, big, 800_001, 5000);
    // 800,001 more fit only once the 200,000 of t = 0 have left the window.
    expect(full).toMatchObject({ allowed: true, waitMs: 990 });
    expect(full.entries).toEqual([0, 200_000, 1000, 800_001]);
  });

  it('decides exactly as a log of single units would, for any costs', () => {
    const q = { limit: 7, windowMs: 1000 };
    let log: WindowLog = [];
    let unitLog: number[] = [];
    for (let i = 0; i < 400; i++) {
      const now = i * 53;
      const cost = 1 + ((i * 5) % 7);
      const maxWait = i % 3 === 0 ? 3000 : 0;
      const o = slidingWindow(log, now, q, cost, maxWait);
      const u = unitWindow(unitLog, now, q, cost, maxWait);
      expect([o.allowed, o.waitMs, o.retryAfterMs, o.remaining, o.resetAt]).toEqual(u.slice(0, 5));
      if (o.allowed) [log, unitLog] = [o.entries, u[5]];
    }
  });

  it('never lets any window hold more than limit, whatever the sequence', () => {
    let log: WindowLog = [];
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

  it('counts only live entries as used, by weight', () => {
    expect(windowRemaining(units(0, 500, 900), 1200, p)).toBe(1);
    expect(windowRemaining([900, 2], 1200, p)).toBe(1);
  });

  it('rejects a cost above the limit (it can never be admitted)', () => {
    const o = slidingWindow([], 1000, { limit: 2, windowMs: 1000 }, 3, 5000);
    expect(o).toMatchObject({ allowed: false, retryAfterMs: Infinity, entries: [] });
  });
});

/**
 * The window as DESIGN 3.4 first wrote it, one entry per unit: [allowed, waitMs, retryAfterMs,
 * remaining, resetAt, entries].
 */
function unitWindow(
  entries: number[],
  now: number,
  p: { limit: number; windowMs: number },
  cost: number,
  maxWaitMs: number,
): [boolean, number, number, number, number, number[]] {
  const live = entries.filter((e) => e > now - p.windowMs);
  const n = live.length;
  const reset = (log: number[]) => (log.length ? log[log.length - 1] + p.windowMs : now);
  let at = now;
  if (n + cost > p.limit) {
    at = live[n - p.limit + cost - 1] + p.windowMs;
    if (at - now > maxWaitMs)
      return [false, 0, at - now, Math.max(0, p.limit - n), reset(live), live];
  }
  const next = live.concat(new Array<number>(cost).fill(at)).sort((a, b) => a - b);
  return [true, at - now, 0, Math.max(0, p.limit - next.length), reset(next), next];
}
