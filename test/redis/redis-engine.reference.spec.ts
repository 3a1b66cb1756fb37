import { ManualClock } from '../../lib/core/clock';
import type { AcquireRequest, LayerDecision } from '../../lib/core/engines/engine';
import { MemoryEngine } from '../../lib/core/engines/memory';
import type { RedisEngine } from '../../lib/core/engines/redis';
import { storageKey } from '../../lib/core/keys';
import { maxCost, toPolicy, type LimiterPolicy } from '../../lib/core/policy';
import { describeRedis } from '../support/redis';
import { dropPrefix, openEngine } from './engine-fixture';
import { prng } from '../support/prng';

/**
 * The Redis engine against the reference model: the same random sequences of acquisitions,
 * releases, renewals, resets and time steps, at the same instants (the scripts' clock is
 * pinned to a ManualClock through the test-only `now` hook), must give identical decisions,
 * down to the last bit of every double.
 */
const POLICIES: LimiterPolicy[] = [
  toPolicy('tb', { store: 's', ratePerSecond: 3 }),
  toPolicy('tbb', { store: 's', ratePerSecond: 7, burst: 4 }),
  toPolicy('sw', { store: 's', algorithm: 'sliding_window', limit: 5, windowSeconds: 1 }),
  toPolicy('cc', { store: 's', maxConcurrent: 2, leaseSeconds: 0.5 }),
  toPolicy('tbc', { store: 's', ratePerSecond: 5, burst: 2, maxConcurrent: 2, leaseSeconds: 0.4 }),
  toPolicy('swc', {
    store: 's',
    algorithm: 'sliding_window',
    limit: 3,
    windowSeconds: 0.7,
    maxConcurrent: 2,
    leaseSeconds: 0.3,
  }),
];

interface Held {
  policy: LimiterPolicy;
  key: string;
  id: string;
  expiresAt: number;
}

describeRedis('RedisEngine decides exactly like the memory reference model', () => {
  let clock: ManualClock;
  let memory: MemoryEngine;
  let redis: RedisEngine;
  let prefix: string;

  beforeEach(async () => {
    clock = new ManualClock();
    memory = new MemoryEngine({ clock });
    ({ engine: redis, prefix } = await openEngine({}, clock));
  });
  afterEach(async () => {
    await Promise.all([memory.close(), redis.close(), dropPrefix(prefix)]);
  });

  async function both(requests: AcquireRequest[]): Promise<LayerDecision[]> {
    const [m, r] = await Promise.all([memory.acquire(requests), redis.acquire(requests)]);
    expect(r).toEqual(m);
    return m;
  }

  it.each([1, 2, 3, 4, 5, 6])('random sequence, seed %i', async (seed) => {
    const rand = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const held: Held[] = [];
    const seen = { allowed: 0, waited: 0, rate: 0, concurrency: 0 };
    for (let step = 0; step < 250; step++) {
      const roll = rand();
      if (roll < 0.55) {
        const layers = rand() < 0.2 ? 2 : 1;
        const chosen = [...POLICIES].sort(() => rand() - 0.5).slice(0, layers);
        const requests = chosen.map((policy) => ({
          policy,
          key: storageKey(policy.id, pick(['a', 'b', ''])),
          cost: 1 + Math.floor(rand() * Math.min(3, maxCost(policy))),
          maxWaitMs: pick([0, 0, 0, 120.5, 400, Number.POSITIVE_INFINITY]),
          leaseId: policy.concurrency ? `L${seed}-${step}-${policy.id}` : undefined,
          dryRun: rand() < 0.1,
        }));
        const ds = await both(requests);
        for (const d of ds) {
          if (d.allowed) seen.allowed++;
          if (d.waitMs > 0) seen.waited++;
          if (d.blockedBy) seen[d.blockedBy]++;
        }
        if (ds.every((d) => d.allowed) && !requests.some((r) => r.dryRun)) {
          for (const r of requests) {
            if (r.leaseId)
              held.push({
                policy: r.policy,
                key: r.key,
                id: r.leaseId,
                expiresAt: clock.now() + r.policy.concurrency!.leaseMs,
              });
          }
        }
      } else if (roll < 0.68 && held.length) {
        const h = held.splice(Math.floor(rand() * held.length), 1)[0];
        await Promise.all([
          memory.release(h.policy, h.key, h.id),
          redis.release(h.policy, h.key, h.id),
        ]);
      } else if (roll < 0.75) {
        // Renew only live leases: the reference model also revives expired ones (see notes spec).
        const live = held.filter((h) => h.expiresAt > clock.now());
        if (live.length) {
          const h = pick(live);
          const ids = live.filter((x) => x.key === h.key).map((x) => x.id);
          await Promise.all([
            memory.renew(h.policy, h.key, ids),
            redis.renew(h.policy, h.key, ids),
          ]);
          for (const x of live)
            if (x.key === h.key) x.expiresAt = clock.now() + h.policy.concurrency!.leaseMs;
        }
      } else if (roll < 0.77) {
        const policy = pick(POLICIES);
        const key = rand() < 0.5 ? storageKey(policy.id, pick(['a', 'b', ''])) : undefined;
        await Promise.all([memory.reset(policy, key), redis.reset(policy, key)]);
        for (let i = held.length - 1; i >= 0; i--) {
          if (held[i].policy === policy && (key === undefined || held[i].key === key))
            held.splice(i, 1);
        }
      } else {
        await clock.advance(pick([0, 1, 33.3, 100, 250.25, 600]) * rand());
      }
    }
    // The sequence exercised every kind of outcome.
    expect(Math.min(seen.allowed, seen.waited, seen.rate, seen.concurrency)).toBeGreaterThan(0);
  });

  it('at the highest rate allowed (1e5/s), calls at one instant admit exactly the burst', async () => {
    const fast = toPolicy('fast', { store: 's', ratePerSecond: 100_000, burst: 10 });
    await clock.advance(0.123); // an instant between milliseconds, as TIME gives them
    let admitted = 0;
    for (let i = 0; i < 300; i++) {
      const [d] = await both([{ policy: fast, key: 'fast', cost: 1, maxWaitMs: 0 }]);
      if (d.allowed) admitted++;
    }
    expect(admitted).toBe(10);
  });

  it('agrees on reservations: a queue of waiters on a token bucket and on a window', async () => {
    const tb = POLICIES[1];
    const sw = POLICIES[2];
    for (let i = 0; i < 12; i++) {
      await both([{ policy: tb, key: 'tbb:q', cost: 1, maxWaitMs: 2000 }]);
      await both([{ policy: sw, key: 'sw:q', cost: 1 + (i % 2), maxWaitMs: 2500 }]);
      await clock.advance(17);
    }
  });

  it('agrees on composites where one layer rejects: nothing is consumed', async () => {
    const [tb, , sw, cc] = POLICIES;
    await both([{ policy: cc, key: 'cc:x', cost: 1, maxWaitMs: 0, leaseId: 'a' }]);
    await both([{ policy: cc, key: 'cc:x', cost: 1, maxWaitMs: 0, leaseId: 'b' }]);
    for (let i = 0; i < 3; i++) {
      const ds = await both([
        { policy: tb, key: 'tb:x', cost: 1, maxWaitMs: 0 },
        { policy: sw, key: 'sw:x', cost: 1, maxWaitMs: 0 },
        { policy: cc, key: 'cc:x', cost: 1, maxWaitMs: 0, leaseId: `c${i}` },
      ]);
      expect(ds.map((d) => d.allowed)).toEqual([true, true, false]);
    }
  });
});
