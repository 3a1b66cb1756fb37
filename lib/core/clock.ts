/**
 * Time source of the memory engine and of every wait. Inject a {@link ManualClock} in tests
 * instead of sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time, or as soon as `signal` aborts
   * (it resolves then too, it never rejects). An aborted sleep leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The longest delay Node's timers hold: 2^31 - 1 ms (about 24.8 days). A longer delay
 * overflows and the timer fires after 1 ms, so every timer of this package is armed for at
 * most this long.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration in seconds as a timer delay in ms: rounded, and at most {@link MAX_TIMER_MS}
 * (validation bounds every duration option well below it; this keeps a value given in code
 * from overflowing a timer too).
 */
export function timerMs(seconds: number): number {
  return Math.min(Math.round(seconds * 1000), MAX_TIMER_MS);
}

/** Epoch ms at which this process's monotonic timer started (read once: a getter per call costs). */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * The real clock: monotonic epoch milliseconds (the process's start time plus a monotonic
 * timer, so a step of the system clock, forwards or back, never lengthens a wait, a cached
 * rejection or a memory-engine bucket) and `setTimeout`. A long sleep (a 30-day window's
 * reservation) re-arms its timer in steps of at most {@link MAX_TIMER_MS} until its deadline.
 */
export const systemClock: Clock = {
  now: () => Math.floor(TIME_ORIGIN + performance.now()),
  sleep: (ms, signal) => {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let left = ms;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // Counted down by the steps slept (timers never fire early), not read off the wall clock.
      const step = (): void => {
        if (left <= 0) return done();
        const next = Math.min(left, MAX_TIMER_MS);
        left -= next;
        timer = setTimeout(step, next);
      };
      step();
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

interface Sleeper {
  readonly until: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A clock that only moves when told to. Sleepers wake, in time order, when
 * {@link ManualClock.advance} passes their deadline.
 */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  /** @param start epoch milliseconds to start at. @default 1_700_000_000_000 */
  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  /** The current time of this clock, in epoch milliseconds. */
  now(): number {
    return this.current;
  }

  /** Resolves when {@link ManualClock.advance} passes `ms` from now (or at once when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper: Sleeper = { until: this.current + ms, seq: this.seq++, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Number of pending sleepers (useful to wait until a caller is parked). */
  get pending(): number {
    return this.sleepers.length;
  }

  /**
   * Moves time forward by `ms`, waking every sleeper whose deadline is reached, one at a time
   * in deadline order, letting promise callbacks run between wake-ups.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      this.sleepers.sort((a, b) => a.until - b.until || a.seq - b.seq);
      const next = this.sleepers[0];
      if (!next || next.until > target) break;
      this.sleepers.shift();
      this.current = Math.max(this.current, next.until);
      next.resolve();
    }
    this.current = target;
    await flushMicrotasks();
  }
}

/** Lets pending promise callbacks (several levels deep) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
