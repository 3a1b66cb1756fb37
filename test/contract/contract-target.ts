import { flushMicrotasks, systemClock, type Clock } from '../../lib/core/clock';
import { createEngine } from '../../lib/core/engines/create-engine';
import { ManualClock, RateSync, type LimiterOptions, type StoreOptions } from '../../lib/core';

/**
 * One engine under the contract suite. To add an engine: write
 * `test/contract/<engine>.contract.spec.ts` that calls `engineContract(target)` with a target
 * whose `store()` returns fresh options (a unique key prefix / table per call) and whose
 * `available()` says whether the server is reachable (skip loudly, or fail under CI=true).
 */
export interface ContractTarget {
  readonly name: string;
  /** Store options for one test: must not share state with any other test. */
  store(): StoreOptions | Promise<StoreOptions>;
  /** Simulated time (memory engine only); real engines use real time with tolerances. */
  readonly manualClock?: boolean;
  /** Called once after all tests (drop schemas...). */
  cleanup?(): Promise<void>;
}

/** A RateSync built for one test, plus time control. */
export interface Harness {
  readonly rs: RateSync;
  readonly clock?: ManualClock;
  /** Lets `ms` of time pass: the manual clock advances, or the test really sleeps. */
  advance(ms: number): Promise<void>;
  /** Tolerance for time assertions in ms (0.5 simulated, wider for real servers). */
  readonly tolMs: number;
  /**
   * Separates calls whose arrival order matters: concurrent calls may reach a pooled store in
   * any order, so real engines space them by {@link staggerMs}.
   */
  stagger(): Promise<void>;
  readonly staggerMs: number;
  /**
   * The time on the clock the store decides on: the shifted clock of a {@link Skew}, the
   * manual clock, or else the server's own (`TIME`, `clock_timestamp()`: the system's wall
   * clock, which this package's real clock, monotonic since the process started, drifts from
   * when the system clock is stepped).
   */
  storeNow(): number;
  /** The time on this process's clock as the facade reads it. */
  processNow(): number;
}

/**
 * Clocks that disagree: this process's clock (the facade's) and the store's clock (the memory
 * engine's clock, the Redis and PostgreSQL decisions' time) each shifted by so many ms from
 * the true time (the manual clock, or the real one).
 */
export interface Skew {
  readonly processMs?: number;
  readonly storeMs?: number;
}

export async function makeHarness(
  target: ContractTarget,
  limiters: Record<string, Omit<LimiterOptions, 'store'>>,
  skew?: Skew,
): Promise<Harness> {
  const clock = target.manualClock ? new ManualClock() : undefined;
  const truth: Clock = clock ?? systemClock;
  const store = await target.store();
  const processClock = skew?.processMs ? shifted(truth, skew.processMs) : clock;
  const storeClock = skew?.storeMs ? shifted(truth, skew.storeMs) : undefined;
  const rs = new RateSync(
    {
      stores: { s: store },
      limiters: Object.fromEntries(
        Object.entries(limiters).map(([id, o]) => [id, { ...o, store: 's' }]),
      ),
    },
    {
      clock: processClock,
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      createEngine: !skew
        ? undefined
        : (ctx) =>
            createEngine(
              ctx.options.engine === 'memory'
                ? { ...ctx, clock: storeClock ?? truth }
                : { ...ctx, testClock: storeClock },
            ),
    },
  );
  await rs.connect();
  return {
    rs,
    clock,
    tolMs: clock ? 0.5 : 80,
    staggerMs: clock ? 0 : 30,
    stagger: () => (clock ? flushMicrotasks() : new Promise((r) => setTimeout(r, 30))),
    advance: (ms) => (clock ? clock.advance(ms) : new Promise((r) => setTimeout(r, ms))),
    storeNow: () => (storeClock ?? clock)?.now() ?? Date.now(),
    processNow: () => (processClock ?? systemClock).now(),
  };
}

/** `clock`, shifted by `ms`. */
function shifted(clock: Clock, ms: number): Clock {
  return { now: () => clock.now() + ms, sleep: (d, signal) => clock.sleep(d, signal) };
}

/**
 * The `setup` of a contract suite: builds a harness for the given limiters on `target`, and
 * closes every harness built after each test.
 */
export function harnessSetup(
  target: ContractTarget,
): (limiters: Parameters<typeof makeHarness>[1]) => Promise<Harness> {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.rs.close()));
  });
  return async (limiters) => {
    const h = await makeHarness(target, limiters);
    harnesses.push(h);
    return h;
  };
}
