import type { Acquired } from './acquisition';
import { admitted, rejected, type Decided } from './acquisition-outcome';
import type { AcquisitionPlan } from './acquisition-plan';
import type { Clock } from './clock';
import type { LayerDecision } from './engines/engine';
import { errorText } from './error-text';
import type { Limiter } from './limiter';
import { storeFailurePolicy } from './options';
import { policyLimit } from './policy';

/**
 * Degraded mode (`on_store_failure = "local"`, see `DegradedMode`): the store failed, so the
 * plan's `local` layers are decided on this process's state at their limit divided by the fleet
 * size; the plan's `open` layers (a composite may mix them) admit. A rate slot may be reserved
 * and waited for as usual; a full concurrency limit rejects at once (no release wakes a local
 * waiter).
 */
export async function decideLocally(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  keys: readonly string[],
  err: unknown,
  call: { clock: Clock; deadline: number; signal?: AbortSignal },
): Promise<Acquired> {
  const { store, limiters } = plan;
  const local = limiters.map(isLocal);
  store.degraded.enter(
    limiters
      .filter((_, i) => local[i])
      .map((l) => `'${l.id}'`)
      .join(', '),
    errorText(err),
  );
  const maxWaitMs = Math.max(0, call.deadline - call.clock.now());
  const requests = limiters.map((l, i) => {
    const r = l.request(keys[i], plan.cost, maxWaitMs, plan.dryRun);
    return local[i] ? r : { ...r, leaseId: undefined };
  });
  const decided = await store.degraded.decide(requests.filter((_, i) => local[i]));
  const d = { plan, identifiers, requests, decisions: merge(local, decided, limiters, call.clock) };
  return decisionOf({ ...d, degraded: true }, call.clock, call.signal);
}

/**
 * After the store came back, for one period: the plan's `local` layers must also pass this
 * process's state, so what was admitted locally during the outage is not admitted again by the
 * store's refilled bucket. Returns the rejection, or undefined to go on to the store (after
 * sleeping for a local reservation, if any).
 */
export async function passGate(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  keys: readonly string[],
  clock: Clock,
  signal?: AbortSignal,
): Promise<Acquired | undefined> {
  const local = plan.limiters.map(isLocal);
  const requests = plan.limiters.map((l, i) => l.request(keys[i], plan.cost, plan.waitMs, false));
  const decided = await plan.store.degraded.gate(requests.filter((_, i) => local[i]));
  const decisions = merge(local, decided, plan.limiters, clock);
  if (!decisions.every((d) => d.allowed)) {
    return rejected({ plan, identifiers, requests, decisions, degraded: true }, false);
  }
  const waitMs = Math.max(...decisions.map((d) => d.waitMs));
  if (waitMs > 0) await clock.sleep(waitMs, signal);
  return undefined;
}

function isLocal(l: Limiter): boolean {
  return storeFailurePolicy(l.options) === 'local';
}

function decisionOf(d: Decided, clock: Clock, signal?: AbortSignal): Promise<Acquired> {
  if (d.decisions.every((x) => x.allowed))
    return Promise.resolve(admitted(d, clock, undefined, signal));
  return Promise.resolve(rejected(d, false));
}

/** The local layers' decisions in place, and an admission for each other layer. */
function merge(
  local: readonly boolean[],
  decided: readonly LayerDecision[],
  limiters: readonly Limiter[],
  clock: Clock,
): LayerDecision[] {
  let j = 0;
  return local.map((isLocalLayer, i) => {
    if (isLocalLayer) return decided[j++];
    const limit = policyLimit(limiters[i].policy);
    return {
      allowed: true,
      waitMs: 0,
      retryAfterMs: 0,
      limit,
      remaining: limit,
      resetAt: clock.now(),
      now: clock.now(),
    };
  });
}
