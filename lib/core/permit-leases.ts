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
 * (with a warning naming the limiter).
 */
export function permitWithLeases(result: RateLimitResult, leases: readonly PermitLease[]): Permit {
  if (leases.length === 0) return new Permit(result);
  const permit: Permit = new Permit(result, async () => {
    unreleased.unregister(permit);
    await Promise.all(leases.map(({ holder, leaseId }) => holder.release(leaseId)));
  });
  unreleased.register(permit, leases, permit);
  return permit;
}
