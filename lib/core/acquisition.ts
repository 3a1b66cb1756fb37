import type { Clock } from './clock';
import type { AcquireRequest, LayerDecision } from './engines/engine';
import { StoreUnavailableError } from './errors';
import { errorText, type Limiter } from './limiter';
import { Permit } from './permit';
import type { RateLimitResult } from './result';
import type { Waiter } from './release-waiters';

/** One layer of an acquisition: a limiter and the identifier counted there. */
export interface LayerSpec {
  readonly limiter: Limiter;
  readonly identifier?: string;
}

export interface AcquireParams {
  /** Milliseconds the call may wait (Infinity: no bound; 0: no waiting). */
  readonly timeoutMs: number;
  readonly cost: number;
  /** Decide without consuming. */
  readonly dryRun: boolean;
}

/** The outcome: one result per layer, and a permit when admitted (and not a dry run). */
export interface Acquired {
  readonly results: RateLimitResult[];
  readonly permit?: Permit;
}

/** Longest single sleep while waiting for a concurrency slot, before re-checking. */
const MAX_RECHECK_MS = 60_000;

/**
 * Acquires every layer all-or-nothing on their (shared) store: reservations for rate slots,
 * release wake-ups (FIFO in this process) or the earliest lease expiry for concurrency,
 * fail-open / fail-closed on store errors. Layers must share one store.
 */
export async function acquireLayers(
  layers: readonly LayerSpec[],
  params: AcquireParams,
  clock: Clock,
): Promise<Acquired> {
  const store = layers[0].limiter.store;
  const keys = layers.map((l) => l.limiter.keyOf(l.identifier));
  const start = clock.now();
  const deadline = start + params.timeoutMs;
  if (!params.dryRun) layers.forEach((l) => l.limiter.metrics.add('attempts'));

  const local = params.dryRun ? undefined : rejectLocally(layers, keys, params.timeoutMs);
  if (local) return local;

  let waiter: { key: string; w: Waiter } | undefined;
  /** Whether the call has slept waiting for a concurrency slot. */
  let slept = false;
  try {
    for (;;) {
      waiter?.w.rearm();
      const maxWaitMs = Math.max(0, deadline - clock.now());
      const requests = layers.map((l, i) =>
        l.limiter.request(keys[i], params.cost, maxWaitMs, params.dryRun),
      );
      const decisions = await store.call((e) => e.acquire(requests));
      store.connectError = undefined;
      decisions.forEach((d, i) => layers[i].limiter.metrics.countKeyCap(d));
      if (decisions.every((d) => d.allowed)) {
        return await admitted(
          layers,
          requests,
          decisions,
          params,
          clock,
          slept ? start : undefined,
        );
      }
      const b = decisions.findIndex((d) => !d.allowed);
      const blocked = decisions[b];
      const left = deadline - clock.now();
      if (params.dryRun || blocked.blockedBy !== 'concurrency' || left <= 0) {
        return rejected(layers, keys, decisions, params);
      }
      if (waiter?.key !== keys[b]) {
        waiter?.w.leave();
        waiter = { key: keys[b], w: store.waiters.join(layers[b].limiter.policy, keys[b]) };
        continue; // subscribed now: re-check at once so no release slips between
      }
      const pause = Math.min(blocked.retryAfterMs, left, MAX_RECHECK_MS);
      slept = true;
      await clock.sleep(Math.max(1, pause), waiter.w.signal);
    }
  } catch (err) {
    return storeFailed(layers, params, err);
  } finally {
    waiter?.w.leave();
  }
}

function admitted(
  layers: readonly LayerSpec[],
  requests: AcquireRequest[],
  decisions: LayerDecision[],
  params: AcquireParams,
  clock: Clock,
  /** When the call started, if it slept waiting for a released slot. */
  waitStart: number | undefined,
): Acquired | Promise<Acquired> {
  const leases: Lease[] = [];
  let waitMs = 0;
  for (let i = 0; i < requests.length; i++) {
    const leaseId = requests[i].leaseId;
    if (leaseId) leases.push({ limiter: layers[i].limiter, key: requests[i].key, leaseId });
    waitMs = Math.max(waitMs, decisions[i].waitMs);
  }
  for (const l of leases) l.limiter.hold(l.leaseId, l.key);
  if (waitMs <= 0 && waitStart === undefined) {
    return grant(layers, decisions, leases, params, 0);
  }
  const reservedAt = clock.now();
  // Waiting is what the caller spent asleep for its slot (a reservation, a release), not the
  // store's latency.
  return clock
    .sleep(waitMs)
    .then(() => grant(layers, decisions, leases, params, clock.now() - (waitStart ?? reservedAt)));
}

interface Lease {
  readonly limiter: Limiter;
  readonly key: string;
  readonly leaseId: string;
}

function grant(
  layers: readonly LayerSpec[],
  decisions: LayerDecision[],
  leases: Lease[],
  params: AcquireParams,
  waitedMs: number,
): Acquired {
  const results = decisions.map((d, i) =>
    layers[i].limiter.toResult(d, layers[i].identifier, waitedMs),
  );
  if (params.dryRun) return { results };
  for (const { limiter } of layers) {
    const m = limiter.metrics;
    m.allowed++;
    if (waitedMs > 0) {
      m.waited++;
      m.totalWaitMs += waitedMs;
    }
  }
  const release = leases.length ? () => releaseLeases(leases) : undefined;
  return { results, permit: new Permit(combinedForPermit(results), release) };
}

async function releaseLeases(leases: Lease[]): Promise<void> {
  for (const { limiter, key, leaseId } of leases) {
    if (!limiter.unhold(leaseId)) continue;
    limiter.metrics.released++;
    try {
      await limiter.store.call((e) => e.release(limiter.policy, key, leaseId));
    } catch (err) {
      limiter.store.log.warn(
        `release:${limiter.id}`,
        `rate-sync: releasing a lease of '${limiter.id}' failed (${errorText(err)}); it frees itself when it expires`,
      );
    }
  }
}

function rejected(
  layers: readonly LayerSpec[],
  keys: string[],
  decisions: LayerDecision[],
  params: AcquireParams,
): Acquired {
  const results = decisions.map((d, i) => layers[i].limiter.toResult(d, layers[i].identifier));
  if (!params.dryRun) {
    decisions.forEach((d, i) => {
      layers[i].limiter.metrics.add('rejected');
      if (!d.allowed) layers[i].limiter.noteRejected(keys[i], params.cost, d);
    });
  }
  return { results };
}

/** Answers from process memory when a layer is certainly rejected beyond the timeout. */
function rejectLocally(
  layers: readonly LayerSpec[],
  keys: string[],
  timeoutMs: number,
): Acquired | undefined {
  const waits = layers.map((l, i) => l.limiter.certainWaitMs(keys[i]));
  if (!waits.some((w) => w > timeoutMs)) return undefined;
  const results = layers.map((l, i) => {
    const base = l.limiter.storeFailureResult(l.identifier, false, waits[i]);
    return waits[i] > timeoutMs
      ? { ...base, blockedBy: 'rate' as const }
      : { ...base, allowed: true, blockedBy: undefined };
  });
  layers.forEach((l) => {
    l.limiter.metrics.add('rejected');
    l.limiter.metrics.add('rejectedLocally');
  });
  return { results };
}

function storeFailed(layers: readonly LayerSpec[], params: AcquireParams, err: unknown): Acquired {
  const store = layers[0].limiter.store;
  const ids = layers.map((l) => `'${l.limiter.id}'`).join(', ');
  layers.forEach((l) => l.limiter.metrics.add('storeErrors'));
  const closed = layers.find((l) => l.limiter.options.failClosed);
  if (closed) {
    layers.forEach((l) => l.limiter.metrics.add('failedClosed'));
    throw new StoreUnavailableError(
      store.id,
      closed.limiter.id,
      store.breaker.retryAfterMs || 1000,
      err,
    );
  }
  store.log.warn(
    `fail-open:${store.id}`,
    `rate-sync: store '${store.id}' failed (${errorText(err)}); admitting ${ids} without counting (fail-open)`,
  );
  if (!params.dryRun) {
    layers.forEach((l) => {
      l.limiter.metrics.add('failedOpen');
      l.limiter.metrics.add('allowed');
    });
  }
  const results = layers.map((l) => l.limiter.storeFailureResult(l.identifier, true, 0));
  return { results, permit: params.dryRun ? undefined : new Permit(results[0]) };
}

/** The permit of a composite carries the most restrictive layer's result. */
function combinedForPermit(results: RateLimitResult[]): RateLimitResult {
  if (results.length === 1) return results[0];
  return results.reduce((a, b) => (b.remaining < a.remaining ? b : a));
}
