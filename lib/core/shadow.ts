import type { Acquired } from './acquisition';
import type { AcquisitionPlan } from './acquisition-plan';
import { Permit } from './permit';
import type { RateLimitResult } from './result';

/**
 * Shadow mode: a rejection made only by limiters that do not enforce (`enforce = false`, or the
 * module-wide switch) becomes an admission. The decision was taken and counted as if enforced
 * (the limiters recorded `shadowRejected`); the call proceeds with a permit that holds nothing,
 * and its results say `shadow: true` so no rate-limit header is sent. One line per limiter is
 * logged at most every 10 s. A dry run is a question, not a call: it is answered as enforced.
 */
export function letShadowThrough(plan: AcquisitionPlan, acquired: Acquired): Acquired {
  if (acquired.permit || plan.dryRun) return acquired;
  const { results } = acquired;
  const blocking = plan.limiters.filter((_, i) => !results[i]?.allowed);
  if (blocking.length === 0 || blocking.some((l) => l.enforced)) return acquired;
  for (const limiter of blocking) {
    const r = results[plan.limiters.indexOf(limiter)];
    limiter.store.log.warn(
      `shadow:${limiter.labelId}`,
      `rate-sync: limiter '${limiter.labelId}' (shadow mode, enforce = false) would have rejected a call (${r.blockedBy ?? 'rate'}, retry after ${r.retryAfterMs} ms); it proceeds`,
    );
  }
  const admitted = results.map(shadowed);
  return { results: admitted, permit: new Permit(admitted[0]) };
}

function shadowed(r: RateLimitResult): RateLimitResult {
  return r.allowed
    ? { ...r, shadow: true }
    : { ...r, allowed: true, retryAfterMs: 0, shadow: true };
}
