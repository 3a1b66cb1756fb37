import type { RefundRequest } from './engines/engine';
import { errorText } from './error-text';
import type { Limiter } from './limiter';
import { Permit } from './permit';
import type { RateLimitResult } from './result';

/** What releases a lease: a limiter's `HeldLeases`, or the local state of degraded mode. */
export interface LeaseHolder {
  release(leaseId: string): Promise<void>;
  /** Releases a lease whose permit was garbage-collected without being released. */
  releaseForgotten(leaseId: string): Promise<void>;
}

/** One concurrency lease a permit carries, and the holder that owns it. */
export interface PermitLease {
  readonly holder: LeaseHolder;
  readonly leaseId: string;
}

/** What one admitted layer took of its limiter's rate part, for {@link Permit.refund}. */
export interface PermitUnits {
  readonly limiter: Limiter;
  readonly request: RefundRequest;
}

/**
 * Permits that were never released but became unreachable: their leases are released when
 * the garbage collector reclaims them, instead of being renewed for ever.
 */
const unreleased = new FinalizationRegistry<readonly PermitLease[]>((leases) => {
  for (const { holder, leaseId } of leases) void holder.releaseForgotten(leaseId);
});

/**
 * The permit of an admitted acquisition. Releasing it releases its leases once; a permit with
 * leases that is dropped without `release()` gives them back when it is garbage-collected
 * (with a warning naming the limiter). Refunding it also gives back `units`.
 */
export function permitWithLeases(
  result: RateLimitResult,
  leases: readonly PermitLease[],
  units: readonly PermitUnits[] = [],
): Permit {
  const refund = units.length ? () => refundUnits(units) : undefined;
  if (leases.length === 0) return new Permit(result, undefined, refund);
  const permit: Permit = new Permit(
    result,
    async () => {
      unreleased.unregister(permit);
      await Promise.all(leases.map(({ holder, leaseId }) => holder.release(leaseId)));
    },
    refund,
  );
  unreleased.register(permit, leases, permit);
  return permit;
}

/**
 * The permit of one admitted layer that holds no lease (the synchronous fast path): what
 * {@link permitWithLeases} gives for {@link unitsOf} that layer, with one closure instead of
 * the arrays and records (this runs on every such admission).
 */
export function permitOfLayer(
  result: RateLimitResult,
  limiter: Limiter,
  key: string,
  cost: number,
  entryAt: number | undefined,
): Permit {
  const { policy } = limiter;
  if (!policy.gcra && !policy.window) return new Permit(result);
  return new Permit(result, undefined, () =>
    refundUnits([{ limiter, request: { policy, key, cost, entryAt } }]),
  );
}

/** The rate units an admitted layer took, or undefined when its policy has no rate part. */
export function unitsOf(
  limiter: Limiter,
  key: string,
  cost: number,
  entryAt: number | undefined,
): PermitUnits | undefined {
  const { policy } = limiter;
  if (!policy.gcra && !policy.window) return undefined;
  return { limiter, request: { policy, key, cost, entryAt } };
}

/**
 * Gives the units back on their store, in one engine call. Never rejects: a failure is logged
 * (the units stay taken, as if the refund had not been asked for).
 */
async function refundUnits(units: readonly PermitUnits[]): Promise<void> {
  const store = units[0].limiter.store;
  // The key may no longer be rejected: forget what this process knew, and again once the
  // store has the units back (a rejection decided before the refund may arrive meanwhile).
  const forget = (): void => {
    for (const { limiter, request } of units) limiter.forgetBlocked(request.key);
  };
  forget();
  try {
    await store.call((e) => e.refund(units.map((u) => u.request)));
    forget();
  } catch (err) {
    const ids = units.map((u) => `'${u.limiter.id}'`).join(', ');
    store.log.warn(
      `refund:${ids}`,
      `rate-sync: refunding an admission of ${ids} failed (${errorText(err)}); its units stay taken`,
    );
  }
}
