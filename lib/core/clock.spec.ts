import { MAX_TIMER_MS, systemClock } from './clock';

const DAY_MS = 86_400_000;

describe('systemClock.sleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Whether the promise has settled, once pending callbacks have run. */
  const settled = async (p: Promise<unknown>): Promise<boolean> => {
    let done = false;
    void p.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0);
    return done;
  };

  it('sleeps 30 days for 30 days, not 1 ms (Node timers overflow past 2^31 - 1 ms)', async () => {
    const sleeping = systemClock.sleep(30 * DAY_MS);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await settled(sleeping)).toBe(false);
    await jest.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(await settled(sleeping)).toBe(false);
    await jest.advanceTimersByTimeAsync(30 * DAY_MS - MAX_TIMER_MS - 1000 - 1);
    expect(await settled(sleeping)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an unbounded sleep never ends on its own, and an abort ends it leaving no timer', async () => {
    const abort = new AbortController();
    const sleeping = systemClock.sleep(Number.POSITIVE_INFINITY, abort.signal);
    await jest.advanceTimersByTimeAsync(3 * MAX_TIMER_MS);
    expect(await settled(sleeping)).toBe(false);
    abort.abort();
    expect(await settled(sleeping)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });
});
