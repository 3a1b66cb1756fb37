import type { AcquisitionPlan } from './acquisition-plan';
import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { errorText } from './error-text';
import { InvalidArgumentError, StoreUnavailableError } from './errors';
import type { Limiter } from './limiter';
import type { Permit } from './permit';
import { permitWithLeases, unitsOf, type PermitLease, type PermitUnits } from './permit-leases';
import type { RateLimitResult } from './result';
import type { Waiter } from './release-waiters';
import { isConnectivityFailure, storeCallError } from './store-failure';

/** The outcome: one result per layer, and a permit when admitted (and not a dry run). */
export interface Acquired {
  readonly results: RateLimitResult[];
  readonly permit?: Permit;
}

/** How long an admission waited, and how long ago the store decided it. */
interface Waited {
  readonly waitedMs: number;
  readonly sinceDecisionMs: number;
}

/** An admission at once (one object for every such call: this is the hot path). */
const NO_WAIT: Waited = { waitedMs: 0, sinceDecisionMs: 0 };

/** Longest single sleep while waiting for a concurrency slot, before re-checking. */
const MAX_RECHECK_MS = 60_000;

/**
 * Runs a plan with one identifier per layer, all-or-nothing on the plan's store: reservations
 * for rate slots, release wake-ups (FIFO in this process) or the earliest lease expiry for
 * concurrency, fail-open / fail-closed on store errors. `signal` cancels a call that is still
 * waiting (its client went away): it is rejected and its lease, if any, released.
 */
export async function runPlan(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  clock: Clock,
  signal?: AbortSignal,
): Promise<Acquired> {
  const { limiters, store } = plan;
  const keys = limiters.map((l, i) => l.keyOf(identifiers[i]));
  if (limiters.length > 1) checkDistinct(limiters, keys);
  const deadline = clock.now() + plan.waitMs;

  const local = plan.dryRun ? undefined : rejectLocally(plan, identifiers, keys);
  if (local) return local;

  let waiter: { key: string; w: Waiter } | undefined;
  const cancel = (): void => waiter?.w.wake();
  signal?.addEventListener('abort', cancel);
  /** When the call started sleeping for a released slot, if it did. */
  let waitStart: number | undefined;
  try {
    for (;;) {
      waiter?.w.rearm();
      const maxWaitMs = Math.max(0, deadline - clock.now());
      const requests = limiters.map((l, i) =>
        l.request(keys[i], plan.cost, maxWaitMs, plan.dryRun),
      );
      const decisions = await store.decide(requests);
      for (let i = 0; i < decisions.length; i++) limiters[i].metrics.countKeyCap(decisions[i]);
      if (decisions.every((d) => d.allowed)) {
        return await admitted(plan, identifiers, requests, decisions, clock, waitStart, signal);
      }
      const b = decisions.findIndex((d) => !d.allowed);
      const blocked = decisions[b];
      const left = deadline - clock.now();
      if (plan.dryRun || blocked.blockedBy !== 'concurrency' || left <= 0 || signal?.aborted) {
        const timedOut = waitStart !== undefined && !signal?.aborted;
        return rejected(plan, identifiers, keys, decisions, timedOut);
      }
      if (waiter?.key !== keys[b]) {
        waiter?.w.leave();
        waiter = { key: keys[b], w: store.waiters.join(limiters[b].policy, keys[b]) };
        continue; // subscribed now: re-check at once so no release slips between
      }
      waitStart ??= clock.now();
      const pause = Math.min(blocked.retryAfterMs, left, MAX_RECHECK_MS);
      await clock.sleep(Math.max(1, pause), waiter.w.signal);
    }
  } catch (err) {
    return storeFailed(plan, identifiers, err);
  } finally {
    signal?.removeEventListener('abort', cancel);
    waiter?.w.leave();
  }
}

function admitted(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  requests: AcquireRequest[],
  decisions: LayerDecision[],
  clock: Clock,
  waitStart: number | undefined,
  signal: AbortSignal | undefined,
): Acquired | Promise<Acquired> {
  const leases: PermitLease[] = [];
  const units: PermitUnits[] = [];
  let waitMs = 0;
  for (let i = 0; i < requests.length; i++) {
    const { leaseId, key } = requests[i];
    const holder = plan.limiters[i].leases;
    if (leaseId) {
      holder.hold(leaseId, key);
      leases.push({ holder, leaseId });
    }
    if (!plan.dryRun) {
      const u = unitsOf(plan.limiters[i], key, plan.cost, decisions[i].entryAt);
      if (u) units.push(u);
    }
    waitMs = Math.max(waitMs, decisions[i].waitMs);
  }
  const taken = { leases, units };
  if (waitMs <= 0 && waitStart === undefined) {
    return grant(plan, identifiers, decisions, taken, NO_WAIT, signal);
  }
  // Waiting is what the caller spent asleep for its slot (a reservation, a release), not the
  // store's latency.
  const reservedAt = clock.now();
  return clock.sleep(waitMs, signal).then(() => {
    const sinceDecisionMs = clock.now() - reservedAt;
    const waitedMs = clock.now() - (waitStart ?? reservedAt);
    return grant(plan, identifiers, decisions, taken, { waitedMs, sinceDecisionMs }, signal);
  });
}

function grant(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  decisions: LayerDecision[],
  taken: { leases: PermitLease[]; units: PermitUnits[] },
  { waitedMs, sinceDecisionMs }: Waited,
  signal: AbortSignal | undefined,
): Acquired | Promise<Acquired> {
  const results = decisions.map((d, i) =>
    plan.limiters[i].toResult(d, identifiers[i], waitedMs, sinceDecisionMs),
  );
  if (plan.dryRun) return { results };
  const permit = permitWithLeases(mostRestrictive(results), taken.leases, taken.units);
  if (signal?.aborted) {
    // The caller went away while it waited: it does not run, its slots go back, and so does
    // its reservation, so that the next caller does not wait behind it.
    plan.limiters.forEach((l) => l.record('rejected'));
    return permit.refund().then(() => ({ results: results.map(cancelled) }));
  }
  plan.limiters.forEach((l) => l.record('allowed', waitedMs));
  return { results, permit };
}

function cancelled(r: RateLimitResult): RateLimitResult {
  return { ...r, allowed: false, retryAfterMs: 0 };
}

function rejected(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  keys: string[],
  decisions: LayerDecision[],
  timedOut: boolean,
): Acquired {
  const results = decisions.map((d, i) => plan.limiters[i].toResult(d, identifiers[i]));
  if (!plan.dryRun) {
    decisions.forEach((d, i) => {
      const limiter = plan.limiters[i];
      limiter.record(timedOut ? 'timedOut' : 'rejected');
      if (!d.allowed) limiter.noteRejected(keys[i], plan.cost, d);
    });
  }
  return { results };
}

/**
 * Answers from process memory when a layer is certainly rejected beyond the wait bound and
 * every layer's state is known there: a layer this process knows nothing of makes the answer
 * the store's (it reports that layer's real state, and a rejection writes nothing).
 */
function rejectLocally(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  keys: string[],
): Acquired | undefined {
  const known: RateLimitResult[] = [];
  for (let i = 0; i < plan.limiters.length; i++) {
    const k = plan.limiters[i].knownRejection(keys[i], identifiers[i]);
    if (!k) return undefined;
    known.push(k);
  }
  if (!known.some((k) => k.retryAfterMs > plan.waitMs)) return undefined;
  // A layer whose slot comes within the wait bound would pass (with a reservation).
  const results = known.map((k) =>
    k.retryAfterMs > plan.waitMs
      ? k
      : { ...k, allowed: true, retryAfterMs: 0, blockedBy: undefined },
  );
  plan.limiters.forEach((l) => l.record('rejectedLocally'));
  return { results };
}

function storeFailed(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  err: unknown,
): Acquired {
  const { store, limiters } = plan;
  const ids = limiters.map((l) => `'${l.id}'`).join(', ');
  // A call the store refused for its own data fails alone: no fail-open, no breaker.
  if (!isConnectivityFailure(err)) throw storeCallError(store.id, ids, err);
  const closed = limiters.find((l) => l.options.failClosed && l.enforced);
  if (closed) {
    limiters.forEach((l) => l.record('failedClosed'));
    throw new StoreUnavailableError(store.id, closed.id, store.breaker.retryAfterMs || 1000, err);
  }
  store.log.warn(
    `fail-open:${store.id}`,
    `rate-sync: store '${store.id}' failed (${errorText(err)}); admitting ${ids} without counting (fail-open)`,
  );
  if (!plan.dryRun) limiters.forEach((l) => l.record('failedOpen'));
  const results = limiters.map((l, i) => l.failedOpenResult(identifiers[i]));
  return { results, permit: plan.dryRun ? undefined : permitWithLeases(results[0], []) };
}

/** A composite names each (limiter, key) once: the same one twice would charge it twice. */
function checkDistinct(limiters: readonly Limiter[], keys: string[]): void {
  if (new Set(keys).size === keys.length) return;
  throw new InvalidArgumentError(
    'limiterIds',
    `the same limiter and key appear twice in one composite (${limiters.map((l) => l.id).join(', ')})`,
  );
}

/** The permit of a composite carries the most restrictive layer's result. */
function mostRestrictive(results: RateLimitResult[]): RateLimitResult {
  if (results.length === 1) return results[0];
  return results.reduce((a, b) => (b.remaining < a.remaining ? b : a));
}
