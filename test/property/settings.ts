/**
 * How many random cases the property suites try, and from which seed. `npm test` uses a fixed
 * seed and a small budget; set `PROPERTY_SEED` and `PROPERTY_RUNS` for a longer local run, and
 * `PROPERTY_PATH` (with the seed fast-check printed) to replay one failure exactly.
 */
import type fc from 'fast-check';

/** The seed of `npm test`: a failure there replays on any machine. */
export const DEFAULT_SEED = 20261203;

function envInt(name: string, min: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name}=${raw} is not an integer >= ${min}; unset it or give one`);
  }
  return n;
}

/** Whether the budget was raised by `PROPERTY_RUNS` (the suites then lift their timeouts). */
export const LONG_RUN = envInt('PROPERTY_RUNS', 1) !== undefined;

/**
 * fast-check parameters: `runs` cases unless `PROPERTY_RUNS` says otherwise. In `npm test` the
 * run (shrinking included) stops `timeoutMs` - 10 s in and fails with the smallest
 * counterexample found so far, before jest's timeout of the same test would cut it off and
 * leave it running into the next test.
 */
export function propertyParams<T>(runs: number, timeoutMs?: number): fc.Parameters<T> {
  const seed = envInt('PROPERTY_SEED', -(2 ** 31)) ?? DEFAULT_SEED;
  const path = process.env.PROPERTY_PATH || undefined;
  const limit =
    timeoutMs !== undefined && !LONG_RUN ? Math.max(1000, timeoutMs - 10_000) : undefined;
  return {
    seed,
    path,
    numRuns: envInt('PROPERTY_RUNS', 1) ?? runs,
    endOnFailure: !!path,
    ...(limit !== undefined
      ? { interruptAfterTimeLimit: limit, markInterruptAsFailure: true }
      : {}),
  };
}

/** A jest timeout for a property test: `ms` in `npm test`, unbounded for a longer run. */
export function propertyTimeout(ms: number): number {
  return LONG_RUN ? 2 ** 31 - 1 : ms;
}
