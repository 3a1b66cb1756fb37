import type { Acquired } from './acquisition';
import type { AcquisitionPlan } from './acquisition-plan';
import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import {
  permitOfLayer,
  permitWithLeases,
  unitsOf,
  type PermitLease,
  type PermitUnits,
} from './permit-leases';
import type { RateLimitResult } from './result';

/** The layers of a plan as decided, by the store or (`degraded`) on this process's state. */
export interface Decided {
  readonly plan: AcquisitionPlan;
  readonly identifiers: readonly (string | undefined)[];
  readonly requests: readonly AcquireRequest[];
  readonly decisions: readonly LayerDecision[];
  /** Decided in degraded mode: leases live on the local state, outcomes count as degraded. */
  readonly degraded?: boolean;
  /** `forgetsSoFar()` when the call asked the store: see `Limiter.noteRejected`. */
  readonly forgets?: number;
}

/** How long an admission waited, and how long ago the store decided it. */
interface Waited {
  readonly waitedMs: number;
  readonly sinceDecisionMs: number;
}

/** An admission at once (one object for every such call: this is the hot path). */
const NO_WAIT: Waited = { waitedMs: 0, sinceDecisionMs: 0 };

/** Every layer allowed: holds the leases, sleeps for a reserved slot, then grants. */
export function admitted(
  d: Decided,
  clock: Clock,
  waitStart: number | undefined,
  signal: AbortSignal | undefined,
): Acquired | Promise<Acquired> {
  const { plan, requests, decisions } = d;
  if (
    requests.length === 1 &&
    !requests[0].leaseId &&
    !d.degraded &&
    waitStart === undefined &&
    decisions[0].waitMs <= 0 &&
    !signal?.aborted
  ) {
    return grantOne(d);
  }
  const leases: PermitLease[] = [];
  const units: PermitUnits[] = [];
  let waitMs = 0;
  for (let i = 0; i < requests.length; i++) {
    const { leaseId, key, policy } = requests[i];
    if (leaseId) {
      const holder = d.degraded
        ? plan.store.degraded.holder(policy, key)
        : plan.limiters[i].leases.hold(leaseId, key);
      leases.push({ holder, leaseId });
    }
    // Units decided locally (degraded) live on no store: nothing to give back there.
    if (!plan.dryRun && !d.degraded) {
      const u = unitsOf(plan.limiters[i], key, plan.cost, decisions[i].entryAt);
      if (u) units.push(u);
    }
    waitMs = Math.max(waitMs, decisions[i].waitMs);
  }
  const taken = { leases, units };
  if (waitMs <= 0 && waitStart === undefined) return grant(d, taken, NO_WAIT, signal);
  // Waiting is what the caller spent asleep for its slot (a reservation, a release), not the
  // store's latency.
  const reservedAt = clock.now();
  return clock.sleep(waitMs, signal).then(() => {
    const sinceDecisionMs = clock.now() - reservedAt;
    const waitedMs = clock.now() - (waitStart ?? reservedAt);
    return grant(d, taken, { waitedMs, sinceDecisionMs }, signal);
  });
}

/**
 * {@link admitted} of one layer that holds no lease and did not wait, for a caller still there:
 * what {@link grant} gives then, without its arrays and closures (this is the hot path).
 */
function grantOne(d: Decided): Acquired {
  const { plan } = d;
  const limiter = plan.limiters[0];
  const decision = d.decisions[0];
  const result = limiter.toResult(decision, d.identifiers[0], 0, 0);
  if (plan.dryRun) return { results: [result] };
  const { key } = d.requests[0];
  const permit = permitOfLayer(result, limiter, key, plan.cost, decision.entryAt);
  limiter.record('allowed', 0);
  return { results: [result], permit };
}

function grant(
  d: Decided,
  taken: { leases: PermitLease[]; units: PermitUnits[] },
  waited: Waited,
  signal: AbortSignal | undefined,
): Acquired | Promise<Acquired> {
  const { plan } = d;
  const { waitedMs } = waited;
  const results = resultsOf(d, waited);
  if (plan.dryRun) return { results };
  const permit = permitWithLeases(mostRestrictive(results), taken.leases, taken.units);
  if (signal?.aborted) {
    // The caller went away while it waited: it does not run, its slots go back, and so does
    // its reservation, so that the next caller does not wait behind it.
    plan.limiters.forEach((l) => l.record(d.degraded ? 'degradedRejected' : 'rejected'));
    return permit.refund().then(() => ({ results: results.map(cancelled) }));
  }
  plan.limiters.forEach((l) => l.record(d.degraded ? 'degradedAllowed' : 'allowed', waitedMs));
  return { results, permit };
}

/** Some layer rejected: nothing was taken. */
export function rejected(d: Decided, timedOut: boolean): Acquired {
  const { plan, requests, decisions } = d;
  const results = resultsOf(d);
  if (!plan.dryRun) {
    decisions.forEach((decision, i) => {
      const limiter = plan.limiters[i];
      if (d.degraded) return limiter.record('degradedRejected');
      limiter.record(timedOut ? 'timedOut' : 'rejected');
      if (!decision.allowed && d.forgets !== undefined) {
        limiter.noteRejected(requests[i].key, plan.cost, decision, d.forgets);
      }
    });
  }
  return { results };
}

function resultsOf(d: Decided, waited?: Waited): RateLimitResult[] {
  return d.decisions.map((decision, i) => {
    const limiter = d.plan.limiters[i];
    const r = waited
      ? limiter.toResult(decision, d.identifiers[i], waited.waitedMs, waited.sinceDecisionMs)
      : limiter.toResult(decision, d.identifiers[i]);
    return d.degraded ? { ...r, degraded: true } : r;
  });
}

function cancelled(r: RateLimitResult): RateLimitResult {
  return { ...r, allowed: false, retryAfterMs: 0 };
}

/** The permit of a composite carries the most restrictive layer's result. */
function mostRestrictive(results: RateLimitResult[]): RateLimitResult {
  if (results.length === 1) return results[0];
  return results.reduce((a, b) => (b.remaining < a.remaining ? b : a));
}
