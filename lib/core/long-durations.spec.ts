import { ManualClock, MAX_TIMER_MS, timerMs } from './clock';
import type { Engine } from './engines/engine';
import { MemoryEngine } from './engines/memory/memory.engine';
import { RateSync } from './rate-sync';

/** Durations past Node's timer range (2^31 - 1 ms, 24.8 days) must not fire at once. */
describe('long durations', () => {
  afterEach(() => jest.useRealTimers());

  it('renews a lease of 1e7 seconds every 2^31 - 1 ms at most, not 800 times a second', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    let engine!: Engine;
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: { jobs: { store: 's', maxConcurrent: 2, leaseSeconds: 1e7 } },
      },
      {
        clock: new ManualClock(),
        // No sweep timer to step through while 24.8 days of timers pass.
        createEngine: (ctx) =>
          (engine = new MemoryEngine({ clock: ctx.clock, sweepIntervalMs: MAX_TIMER_MS })),
      },
    );
    await rs.connect();
    const renew = jest.spyOn(engine, 'renew');
    const permit = await rs.acquire('jobs');
    await jest.advanceTimersByTimeAsync(1000);
    expect(renew).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(renew).toHaveBeenCalledTimes(1);
    await permit.release();
    await rs.close();
  });

  it('turns seconds into a timer delay that cannot overflow', () => {
    expect(timerMs(1.5)).toBe(1500);
    expect(timerMs(30 * 86_400)).toBe(MAX_TIMER_MS);
  });
});
