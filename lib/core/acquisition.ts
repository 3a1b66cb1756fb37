import { admitted, rejected, type Decided } from './acquisition-outcome';
import type { AcquisitionPlan } from './acquisition-plan';
import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { errorText } from './error-text';
import { InvalidArgumentError, StoreUnavailableError } from './errors';
import type { Limiter } from './limiter';
import { forgetsSoFar } from './known-rejections';
import { decideLocally, passGate } from './local-acquisition';
import { storeFailurePolicy } from './options';
import type { Permit } from './permit';
import { permitWithLeases } from './permit-leases';
import type { RateLimitResult } from './result';
import type { Waiter } from './release-waiters';
import { isConnectivityFailure, storeCallError } from './store-failure';

/** The outcome: one result per layer, and a permit when admitted (and not a dry run). */
export interface Acquired {
  readonly results: RateLimitResult[];
  readonly permit?: Permit;
}

/** Longest single sleep while waiting for a concurrency slot, before re-checking. */
const MAX_RECHECK_MS = 60_000;

/**
 * Shortest sleep of a caller queued behind waiters of its process before it asks the store on
 * its own: longer than a release notification takes to arrive from a busy store, so that the
 * waiter a release woke asks first. The check is only for slots freed unheard (an expired
 * lease), which waiters that asked the store re-check on their own at the earliest expiry.
 */
const MIN_QUEUED_CHECK_MS = 50;

/**
 * Runs a plan with one identifier per layer, all-or-nothing on the plan's store: reservations
 * for rate slots, release wake-ups (FIFO in this process) or the earliest lease expiry for
 * concurrency, the failure policy on store errors (open, closed, or local: degraded mode).
 * `signal` cancels a call that is still waiting (its client went away): it is rejected and its
 * lease, if any, released.
 */
export function runPlan(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  clock: Clock,
  signal?: AbortSignal,
): Promise<Acquired> {
  if (plan.limiters.length === 1 && plan.waitMs === 0) {
    return decideOnce(plan, identifiers, clock, signal);
  }
  return runLoop(plan, identifiers, clock, signal);
}

/**
 * {@link runPlan} of one layer that may not wait (`tryAcquire`, `check`, a request without a
 * timeout): one store call and one reaction to it, without the waiting loop's async frame, its
 * closures and its clock reads (this is the hot path of a networked store). Same outcomes as
 * {@link runLoop}, which with no time left never subscribes nor sleeps; a call that must pass
 * the local state (degraded mode) takes the loop.
 */
function decideOnce(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  clock: Clock,
  signal: AbortSignal | undefined,
): Promise<Acquired> {
  let keys: string[];
  let requests: AcquireRequest[];
  let forgets: number;
  let pending: Promise<LayerDecision[]>;
  const { store, dryRun } = plan;
  try {
    const limiter = plan.limiters[0];
    keys = [limiter.keyOf(identifiers[0])];
    // `rejectLocally` of one layer: a known rejection always lasts beyond a wait bound of 0.
    const known = dryRun ? undefined : limiter.knownRejection(keys[0], identifiers[0]);
    if (known) {
      limiter.record('rejectedLocally');
      return Promise.resolve({ results: [known] });
    }
    if (plan.local && !dryRun && store.degraded.carrying) {
      return runLoop(plan, identifiers, clock, signal);
    }
  } catch (err) {
    return Promise.reject(err);
  }
  const failed = (err: unknown): Acquired | Promise<Acquired> =>
    // `deadline` is spent: the local decision's wait bound is 0 either way.
    storeFailed(plan, identifiers, keys, err, { clock, deadline: clock.now(), signal });
  try {
    // No wait bound: what `runLoop` computes as `deadline - now`, never below 0.
    requests = [plan.limiters[0].request(keys[0], plan.cost, 0, dryRun)];
    forgets = forgetsSoFar();
    pending = store.decide(requests);
  } catch (err) {
    return tryResolve(() => failed(err));
  }
  return pending.then((decisions) => {
    try {
      const recovered = store.degraded.answered();
      plan.limiters[0].metrics.countKeyCap(decisions[0]);
      const decided = { plan, identifiers, requests, decisions, forgets };
      if (!decisions[0].allowed) return rejected(decided, false);
      if (recovered && plan.local && !dryRun) {
        return gateAfterOutage(decided, keys, clock, signal).catch(failed);
      }
      const outcome = admitted(decided, clock, undefined, signal);
      return outcome instanceof Promise ? outcome.catch(failed) : outcome;
    } catch (err) {
      return failed(err);
    }
  }, failed);
}

/** `fn`'s value, or its exception, as a promise. */
function tryResolve<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The store's first admission after an outage: it must pass the local state too. */
async function gateAfterOutage(
  decided: Decided,
  keys: string[],
  clock: Clock,
  signal: AbortSignal | undefined,
  waitStart?: number,
): Promise<Acquired> {
  const { plan, identifiers, requests } = decided;
  const gated = await passGate(plan, identifiers, keys, clock, signal);
  if (gated) return await giveBack(plan, requests, gated);
  return await admitted(decided, clock, waitStart, signal);
}

/** {@link runPlan} in general: several layers, or a wait bound (reservations, released slots). */
async function runLoop(
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
  if (plan.local && !plan.dryRun && store.degraded.carrying) {
    const gated = await passGate(plan, identifiers, keys, clock, signal);
    if (gated) return gated;
  }

  let waiter: { key: string; w: Waiter } | undefined;
  const cancel = (): void => waiter?.w.wake();
  signal?.addEventListener('abort', cancel);
  /** When the call started sleeping for a released slot, if it did. */
  let waitStart: number | undefined;
  try {
    const only = limiters.length === 1 && !plan.dryRun ? limiters[0] : undefined;
    if (only?.policy.concurrency && plan.waitMs > 0 && store.waiters.waiting(keys[0])) {
      // Callers of this process already waiting for the key go first, in arrival order: a
      // caller that released a slot and asks again at once would otherwise reach the store
      // before the waiter its release woke. Join behind them; ask the store when woken, or
      // when a slot is expected to have freed.
      waiter = { key: keys[0], w: store.waiters.join(only.policy, keys[0]) };
      waitStart = clock.now();
      const expected = Math.max(only.slotFreesInMs(), MIN_QUEUED_CHECK_MS);
      const pause = Math.min(expected, deadline - clock.now());
      await clock.sleep(Math.max(1, pause), waiter.w.signal);
    }
    for (;;) {
      waiter?.w.rearm();
      const maxWaitMs = Math.max(0, deadline - clock.now());
      const requests = limiters.map((l, i) =>
        l.request(keys[i], plan.cost, maxWaitMs, plan.dryRun),
      );
      const forgets = forgetsSoFar();
      const decisions = await store.decide(requests);
      const recovered = store.degraded.answered();
      for (let i = 0; i < decisions.length; i++) limiters[i].metrics.countKeyCap(decisions[i]);
      const decided = { plan, identifiers, requests, decisions, forgets };
      if (decisions.every((d) => d.allowed)) {
        if (recovered && plan.local && !plan.dryRun) {
          return await gateAfterOutage(decided, keys, clock, signal, waitStart);
        }
        return await admitted(decided, clock, waitStart, signal);
      }
      const b = decisions.findIndex((d) => !d.allowed);
      const blocked = decisions[b];
      const left = deadline - clock.now();
      if (plan.dryRun || blocked.blockedBy !== 'concurrency' || left <= 0 || signal?.aborted) {
        return rejected(decided, waitStart !== undefined && !signal?.aborted);
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
    return storeFailed(plan, identifiers, keys, err, { clock, deadline, signal });
  } finally {
    signal?.removeEventListener('abort', cancel);
    waiter?.w.leave();
  }
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

/** The store could not decide: the layers' failure policy (DESIGN 6). */
function storeFailed(
  plan: AcquisitionPlan,
  identifiers: readonly (string | undefined)[],
  keys: string[],
  err: unknown,
  call: { clock: Clock; deadline: number; signal?: AbortSignal },
): Acquired | Promise<Acquired> {
  const { store, limiters } = plan;
  const ids = limiters.map((l) => `'${l.id}'`).join(', ');
  // A call the store refused for its own data fails alone: no fail-open, no breaker.
  if (!isConnectivityFailure(err)) throw storeCallError(store.id, ids, err);
  const closed = limiters.find((l) => storeFailurePolicy(l.options) === 'closed' && l.enforced);
  if (closed) {
    limiters.forEach((l) => l.record('failedClosed'));
    throw new StoreUnavailableError(store.id, closed.id, store.breaker.retryAfterMs || 1000, err);
  }
  if (plan.local) return decideLocally(plan, identifiers, keys, err, call);
  store.log.warn(
    `fail-open:${store.id}`,
    `rate-sync: store '${store.id}' failed (${errorText(err)}); admitting ${ids} without counting (fail-open)`,
  );
  if (!plan.dryRun) limiters.forEach((l) => l.record('failedOpen'));
  const results = limiters.map((l, i) => l.failedOpenResult(identifiers[i]));
  return { results, permit: plan.dryRun ? undefined : permitWithLeases(results[0], []) };
}

/** Releases the leases the store granted to a call that is rejected after all. */
async function giveBack(
  plan: AcquisitionPlan,
  requests: readonly AcquireRequest[],
  rejection: Acquired,
): Promise<Acquired> {
  await Promise.all(
    requests.map(({ leaseId, key }, i) =>
      leaseId ? plan.limiters[i].leases.hold(leaseId, key).release(leaseId) : undefined,
    ),
  );
  return rejection;
}

/** A composite names each (limiter, key) once: the same one twice would charge it twice. */
function checkDistinct(limiters: readonly Limiter[], keys: string[]): void {
  if (new Set(keys).size === keys.length) return;
  throw new InvalidArgumentError(
    'limiterIds',
    `the same limiter and key appear twice in one composite (${limiters.map((l) => l.id).join(', ')})`,
  );
}
