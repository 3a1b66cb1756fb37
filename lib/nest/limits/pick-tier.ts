import type { ExecutionContext } from '@nestjs/common';
import type { TierFunction } from '../decorators/rate-limit-options.interface';
import { describeValue, isPromiseLike } from './call-values';

/** The index of the candidate a call runs under, and why the fallback was used. */
export interface TierOutcome {
  readonly tier: number;
  readonly problem?: string;
}

/**
 * Runs a tier function: the index of its answer in `among`; the first candidate (the fallback)
 * when the answer is not one of them, or the function throws or rejects. Synchronous when the
 * function answers at once; never throws or rejects.
 */
export function pickTier(
  pick: TierFunction,
  among: readonly string[],
  context: ExecutionContext,
): TierOutcome | Promise<TierOutcome> {
  let answer: unknown;
  try {
    answer = pick(context);
  } catch (err) {
    return fallback(among, `pick threw ${describeValue(err)}`);
  }
  const tierOf = (id: unknown): TierOutcome => {
    const tier = typeof id === 'string' ? among.indexOf(id) : -1;
    return tier >= 0
      ? { tier }
      : fallback(among, `pick returned ${describeValue(id)}, not one of ${among.join(', ')}`);
  };
  if (!isPromiseLike(answer)) return tierOf(answer);
  return Promise.resolve(answer).then(tierOf, (err: unknown) =>
    fallback(among, `pick's promise rejected with ${describeValue(err)}`),
  );
}

function fallback(among: readonly string[], why: string): TierOutcome {
  return { tier: 0, problem: `${why}; counted under '${among[0]}'` };
}
