/**
 * The differential property suite, run against one engine: random scenarios (see
 * `engine-scenario.ts`) must give, decision by decision, exactly the reference model's
 * answers; the fixed regression scenarios too.
 */
import fc from 'fast-check';
import type { Engine } from '../../lib/core/engines/engine';
import {
  Coverage,
  playScenario,
  scenarioArb,
  startClock,
  SwitchableClock,
} from './engine-scenario';
import { REGRESSIONS } from './regressions';
import { propertyParams, propertyTimeout } from './settings';

export interface PropertyTarget {
  /** Random scenarios tried by `npm test` (a few seconds on this engine). */
  readonly runs: number;
  /** jest timeout of the random test in `npm test`. */
  readonly timeoutMs: number;
  /** A connected engine whose decisions use `clock` (a test clock for the shared engines). */
  open(clock: SwitchableClock): Promise<Engine>;
  /** Drops what the runs stored (key prefix, schema). */
  cleanup?(): Promise<void>;
}

export function engineProperties(target: PropertyTarget): void {
  const clock = new SwitchableClock();
  let engine: Engine;
  let run = 0;
  /** Each scenario: a fresh clock at the same start, limiter ids no other scenario uses. */
  const play = (ops: Parameters<typeof playScenario>[2], coverage?: Coverage): Promise<void> => {
    clock.current = startClock();
    return playScenario(engine, clock.current, ops, `_${run++}`, coverage);
  };

  beforeAll(async () => {
    engine = await target.open(clock);
  });
  afterAll(async () => {
    await engine?.close();
    await target.cleanup?.();
  });

  it(
    'decides random scenarios exactly as the reference model, step by step',
    async () => {
      const coverage = new Coverage();
      await fc.assert(
        fc.asyncProperty(scenarioArb(), (ops) => play(ops, coverage)),
        propertyParams(target.runs, target.timeoutMs),
      );
      // Agreeing proves little unless the scenarios reached every kind of outcome (a replay of
      // one case, PROPERTY_PATH, is not expected to).
      if (!process.env.PROPERTY_PATH) expect(coverage.missing()).toEqual([]);
    },
    propertyTimeout(target.timeoutMs),
  );

  it.each(REGRESSIONS.map((r) => [r.name, r.ops] as const))(
    'regression: %s',
    async (_name, ops) => {
      await play(ops);
    },
  );
}
