import { systemClock, type Clock } from '../../lib/core/clock';
import { InvalidArgumentError, RateSync } from '../../lib/core';
import type { ContractTarget } from './contract-target';

const DAY_MS = 86_400_000;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Long durations and numeric bounds on every engine, on the real clock. Node's timers overflow
 * past 2^31 - 1 ms (24.8 days) and fire after 1 ms: a limit of 1 per 30 days admitted a waiting
 * second call after 1-14 ms. Only `setTimeout` is faked here (the stores' sockets stay real), so
 * 30 days pass in a moment.
 */
export function longWaitsContract(target: ContractTarget): void {
  describe('long waits and bounds', () => {
    let rs: RateSync | undefined;
    afterEach(async () => {
      jest.useRealTimers();
      await rs?.close();
      rs = undefined;
    });

    /** A RateSync on the real clock whose `slept` resolves with the first sleep it starts. */
    const setup = async () => {
      let started!: (ms: number) => void;
      const slept = new Promise<number>((resolve) => (started = resolve));
      const clock: Clock = {
        now: () => systemClock.now(),
        sleep: (ms, signal) => {
          started(ms);
          return systemClock.sleep(ms, signal);
        },
      };
      rs = new RateSync(
        {
          stores: { s: await target.store() },
          limiters: {
            window: {
              store: 's',
              algorithm: 'sliding_window',
              limit: 1,
              windowSeconds: 30 * 86_400,
            },
            bucket: { store: 's', ratePerSecond: 1 / (30 * 86_400) },
            slots: { store: 's', maxConcurrent: 2 },
          },
        },
        { clock, logger: quiet },
      );
      await rs.connect();
      return { rs, slept };
    };

    it.each(['window', 'bucket'])(
      'a limit of 1 per 30 days (%s): a waiting second call is admitted after 30 days, not 1 ms',
      async (id) => {
        const { rs, slept } = await setup();
        expect((await rs.check(id)).allowed).toBe(true);
        expect((await rs.check(id)).allowed).toBe(false);
        jest.useFakeTimers({
          doNotFake: [
            'nextTick',
            'setImmediate',
            'queueMicrotask',
            'Date',
            'performance',
            'hrtime',
            'setInterval',
            'clearInterval',
          ],
        });
        let admitted = false;
        const second = rs.acquire(id).then((p) => {
          admitted = true;
          return p;
        });
        // The store has answered with a 30-day reservation: the call sleeps.
        expect(await slept).toBeGreaterThan(30 * DAY_MS - 60_000);
        await jest.advanceTimersByTimeAsync(1000);
        expect(admitted).toBe(false);
        await jest.advanceTimersByTimeAsync(25 * DAY_MS);
        expect(admitted).toBe(false);
        await jest.advanceTimersByTimeAsync(5 * DAY_MS);
        expect(admitted).toBe(true);
        expect((await second).result.allowed).toBe(true);
      },
    );

    it('refuses a cost a limiter can never admit, naming it, and consumes nothing', async () => {
      const { rs } = await setup();
      await expect(rs.acquire('slots', { cost: 2 })).rejects.toThrow(
        /limiter 'slots' has only max_concurrent/,
      );
      await expect(rs.acquire('slots', { cost: 2 ** 31 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(rs.check('window', { cost: 2 })).rejects.toThrow(
        /limiter 'window' can ever admit \(1\)/,
      );
      expect((await rs.state('slots')).inFlight).toBe(0);
      expect((await rs.state('window')).remaining).toBe(1);
    });
  });
}
