/**
 * The SQL of the postgres engine against the reference model: the same random sequence of
 * acquisitions (every algorithm, cost, waits, dry runs, composite calls), releases, renewals,
 * resets and clock advances runs on the memory engine and on PostgreSQL, both at the same
 * (manual) time, and every decision must be identical to the last bit.
 */
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../lib/core/clock';
import type { AcquireRequest, LayerDecision } from '../../lib/core/engines/engine';
import { MemoryEngine } from '../../lib/core/engines/memory';
import { PostgresEngine } from '../../lib/core/engines/postgres';
import { storageKey } from '../../lib/core/keys';
import { toPolicy, type LimiterPolicy } from '../../lib/core/policy';
import { describePg, dropSchema, pgContext, uniqueName } from '../support/postgres';
import { prng } from '../support/prng';

const POLICIES: LimiterPolicy[] = [
  toPolicy('tb', { store: 's', ratePerSecond: 10 }),
  toPolicy('tb_burst', { store: 's', ratePerSecond: 3, burst: 4 }),
  toPolicy('sw', { store: 's', algorithm: 'sliding_window', limit: 3, windowSeconds: 1 }),
  toPolicy('sw_big', { store: 's', algorithm: 'sliding_window', limit: 5, windowSeconds: 2.5 }),
  toPolicy('conc', { store: 's', maxConcurrent: 2, leaseSeconds: 1.5 }),
  toPolicy('tb_conc', {
    store: 's',
    ratePerSecond: 5,
    burst: 2,
    maxConcurrent: 2,
    leaseSeconds: 1,
  }),
  toPolicy('sw_conc', {
    store: 's',
    algorithm: 'sliding_window',
    limit: 4,
    windowSeconds: 1,
    maxConcurrent: 2,
    leaseSeconds: 0.8,
  }),
];
const IDENTIFIERS = [undefined, 'alice', 'bob:1'];
const WAITS = [0, 0, 0, 50, 400, 1000, Infinity];

interface Held {
  policy: LimiterPolicy;
  key: string;
  leaseId: string;
}

describePg('postgres engine vs the reference model (memory)', () => {
  const schema = uniqueName('rs_ref');
  const clock = new ManualClock();
  const memory = new MemoryEngine({ clock });
  let pg: PostgresEngine;

  beforeAll(async () => {
    pg = new PostgresEngine(pgContext({ schemaName: schema }, { testClock: clock }));
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.close();
    await dropSchema(schema);
  });

  it('at the highest rate allowed (1e5/s), calls at one instant admit exactly the burst', async () => {
    const fast = toPolicy('fast', { store: 's', ratePerSecond: 100_000, burst: 10 });
    await clock.advance(0.123); // an instant between milliseconds, as clock_timestamp() gives them
    let admitted = 0;
    for (let i = 0; i < 300; i++) {
      const request = { policy: fast, key: 'fast', cost: 1, maxWaitMs: 0 };
      const [m] = await memory.acquire([request]);
      const [p] = await pg.acquire([request]);
      expect(p).toEqual(m);
      if (p.allowed) admitted++;
    }
    expect(admitted).toBe(10);
  });

  it.each([1, 2, 3, 4])('agrees on a random sequence of 400 operations (seed %i)', async (seed) => {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const held: Held[] = [];
    const log: string[] = [];
    let decisions = 0;
    const seen = new Map<string, number>();

    const layer = (): AcquireRequest => {
      const policy = pick(POLICIES);
      const cap = policy.gcra ? policy.gcra.burst + 1 : (policy.window?.limit ?? 1);
      return {
        policy,
        key: storageKey(policy.id, pick(IDENTIFIERS)),
        cost: 1 + Math.floor(rnd() * rnd() * cap),
        maxWaitMs: pick(WAITS),
        leaseId: policy.concurrency ? randomUUID() : undefined,
      };
    };

    for (let step = 0; step < 400; step++) {
      memory.sweep(); // see the report: the memory engine renews expired leases until swept
      const roll = rnd();
      if (roll < 0.55) {
        const count = rnd() < 0.8 ? 1 : 2 + Math.floor(rnd() * 2);
        const dryRun = rnd() < 0.1;
        const requests = Array.from({ length: count }, () => ({ ...layer(), dryRun }));
        const expected = await memory.acquire(requests);
        const actual = await pg.acquire(requests);
        log.push(
          `${step} acquire ${JSON.stringify(requests.map((r) => [r.key, r.cost, r.maxWaitMs, r.dryRun]))} at ${clock.now()}`,
        );
        expectSame(actual, expected, log);
        decisions += count;
        tally(seen, requests, expected);
        if (!dryRun && expected.every((d) => d.allowed)) {
          for (const r of requests)
            if (r.leaseId) held.push({ policy: r.policy, key: r.key, leaseId: r.leaseId });
        }
      } else if (roll < 0.7 && held.length > 0) {
        const [h] = held.splice(Math.floor(rnd() * held.length), 1);
        await memory.release(h.policy, h.key, h.leaseId);
        await pg.release(h.policy, h.key, h.leaseId);
        log.push(`${step} release ${h.key}`);
      } else if (roll < 0.8 && held.length > 0) {
        const h = pick(held);
        const ids = held.filter((x) => x.key === h.key).map((x) => x.leaseId);
        await memory.renew(h.policy, h.key, ids);
        await pg.renew(h.policy, h.key, ids);
        log.push(`${step} renew ${h.key} x${ids.length}`);
      } else if (roll < 0.83) {
        const policy = pick(POLICIES);
        const key = rnd() < 0.5 ? storageKey(policy.id, pick(IDENTIFIERS)) : undefined;
        await memory.reset(policy, key);
        await pg.reset(policy, key);
        log.push(`${step} reset ${policy.id} ${key ?? '*'}`);
      } else {
        const ms = rnd() < 0.2 ? rnd() * 50 : Math.floor(rnd() * 400);
        await clock.advance(ms);
        log.push(`${step} advance ${ms}`);
      }
    }
    expect(decisions).toBeGreaterThan(150);
    // The sequence must have exercised every branch, or agreeing would prove little.
    const missing = CASES.filter((what) => !seen.get(what));
    expect(missing).toEqual([]);
  });
});

const CASES = [
  'token bucket admitted now',
  'token bucket reserved a wait',
  'token bucket rejected',
  'sliding window admitted now',
  'sliding window reserved a wait',
  'sliding window rejected',
  'concurrency rejected',
  'combined: rejected for concurrency',
  'composite partly rejected',
  'dry run',
];

function tally(seen: Map<string, number>, requests: AcquireRequest[], ds: LayerDecision[]): void {
  const add = (what: string): void => void seen.set(what, (seen.get(what) ?? 0) + 1);
  if (requests.length > 1 && ds.some((d) => d.allowed) && ds.some((d) => !d.allowed))
    add('composite partly rejected');
  if (requests.some((r) => r.dryRun)) add('dry run');
  requests.forEach((r, i) => {
    const d = ds[i];
    const kind = r.policy.gcra ? 'token bucket' : r.policy.window ? 'sliding window' : undefined;
    if (d.blockedBy === 'concurrency') {
      add('concurrency rejected');
      if (kind) add('combined: rejected for concurrency');
    }
    if (!kind) return;
    if (d.allowed) add(d.waitMs > 0 ? `${kind} reserved a wait` : `${kind} admitted now`);
    else if (d.blockedBy === 'rate') add(`${kind} rejected`);
  });
}

function expectSame(actual: LayerDecision[], expected: LayerDecision[], log: string[]): void {
  try {
    expect(actual).toEqual(expected);
  } catch (err) {
    throw new Error(
      `decisions differ after:\n${log.slice(-8).join('\n')}\n${(err as Error).message}`,
    );
  }
}
