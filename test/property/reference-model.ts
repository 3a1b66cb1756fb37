/**
 * The reference model of an engine, as plain data: one {@link KeyState} per storage key, every
 * decision made by the pure `decideLayer()` of `lib/core/algorithms` at the instant given.
 * No eviction, no sweep timer, no batching: what every engine must agree with, step by step.
 */
import { decideLayer, type KeyState } from '../../lib/core/algorithms/decide';
import type { AcquireRequest, LayerDecision } from '../../lib/core/engines/engine';
import type { LimiterPolicy } from '../../lib/core/policy';

export class ReferenceModel {
  private readonly keys = new Map<string, KeyState>();

  /**
   * All-or-nothing: every layer decided on the state before the call; written only if all
   * pass. Otherwise each layer that would have passed reports the state as it is (a dry run's
   * decision).
   */
  acquire(requests: readonly AcquireRequest[], now: number): LayerDecision[] {
    const outcomes = requests.map((r) => decideLayer(this.read(r), now, r));
    const decisions = outcomes.map((o) => o.decision);
    if (!decisions.every((d) => d.allowed) || requests.some((r) => r.dryRun)) {
      // Nothing is written: a layer that would have passed reports the state as it is.
      return decisions.map((d, i) =>
        d.allowed && !requests[i].dryRun
          ? decideLayer(this.read(requests[i]), now, { ...requests[i], dryRun: true }).decision
          : d,
      );
    }
    outcomes.forEach(({ write }, i) => {
      const state = this.state(requests[i].key);
      if (write.tat !== undefined) state.tat = write.tat;
      if (write.entries !== undefined) state.entries = write.entries;
      if (write.lease) (state.leases ??= new Map()).set(write.lease.id, write.lease.expiresAt);
    });
    return decisions;
  }

  release(key: string, leaseId: string): void {
    this.keys.get(key)?.leases?.delete(leaseId);
  }

  /** Extends the live leases among `leaseIds`; an expired lease stays expired. */
  renew(policy: LimiterPolicy, key: string, leaseIds: readonly string[], now: number): void {
    const leases = this.keys.get(key)?.leases;
    if (!leases || !policy.concurrency) return;
    for (const id of leaseIds) {
      const expiry = leases.get(id);
      if (expiry !== undefined && expiry > now) leases.set(id, now + policy.concurrency.leaseMs);
    }
  }

  /** Forgets one key, or every key of the limiter (its prefix alone or followed by `:`). */
  reset(policy: LimiterPolicy, key?: string): void {
    for (const k of [...this.keys.keys()]) {
      const matches =
        key !== undefined
          ? k === key
          : k === policy.keyPrefix || k.startsWith(`${policy.keyPrefix}:`);
      if (matches) this.keys.delete(k);
    }
  }

  /** Expiry of a lease, if the model holds it (live or not). */
  leaseExpiry(key: string, leaseId: string): number | undefined {
    return this.keys.get(key)?.leases?.get(leaseId);
  }

  private read(r: AcquireRequest): KeyState {
    const s = this.keys.get(r.key);
    const p = r.policy;
    return {
      tat: p.gcra ? s?.tat : undefined,
      entries: p.window ? s?.entries : undefined,
      leases: p.concurrency ? s?.leases : undefined,
    };
  }

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) this.keys.set(key, (s = {}));
    return s;
  }
}
