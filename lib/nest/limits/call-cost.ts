import type { ExecutionContext } from '@nestjs/common';
import type { CostFunction } from '../decorators/rate-limit-options.interface';
import { describeValue } from './call-values';

/** A call's cost, or why the call is refused. */
export type CostOutcome = { readonly cost: number } | { readonly problem: string };

/**
 * Runs a cost function and checks its answer against the bounds of a static cost: a number
 * >= 1 (fractions round up) that every layer can ever admit (`maxCost`). The answer may come
 * from the client (an upload's declared size), so nothing outside those bounds is bent into
 * them: NaN, 0, negatives, Infinity, too large, not a number, or a throw refuse the call.
 */
export function callCost(
  fn: CostFunction,
  context: ExecutionContext,
  maxCost: number,
): CostOutcome {
  let answer: unknown;
  try {
    answer = fn(context);
  } catch (err) {
    return { problem: `the cost function threw ${describeValue(err)}` };
  }
  if (typeof answer !== 'number' || !(answer > 0) || answer === Number.POSITIVE_INFINITY) {
    return { problem: `the cost function returned ${describeValue(answer)}, not a number >= 1` };
  }
  const cost = Math.ceil(answer);
  if (cost > maxCost) {
    return {
      problem: `the cost ${describeValue(answer)} exceeds what the limit can ever admit (${maxCost})`,
    };
  }
  return { cost };
}
