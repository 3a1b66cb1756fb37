/**
 * Random scenarios of engine calls, and a runner that plays one on an engine and on the
 * reference model at the same instants, comparing every decision field by field.
 *
 * A scenario is plain data (indices into a fixed set of policies, identifiers and waits), so a
 * shrunk counterexample prints as a short literal that can be kept in `regressions.ts`.
 */
import fc from 'fast-check';
import type { Clock } from '../../lib/core/clock';
import { ManualClock } from '../../lib/core/clock';
import type { AcquireRequest, Engine, LayerDecision } from '../../lib/core/engines/engine';
import { storageKey } from '../../lib/core/keys';
import { maxCost, toPolicy, type LimiterPolicy } from '../../lib/core/policy';
import { ReferenceModel } from './reference-model';

/** One layer of an acquisition: indices into the policies, identifiers and waits below. */
export interface LayerSpec {
  readonly p: number;
  readonly id: number;
  /** Clamped to the policy's largest admissible cost. */
  readonly cost: number;
  readonly wait: number;
}

export type Op =
  /** `try` (wait 0), `wait` with a timeout (a finite wait) or unbounded (Infinity), composite. */
  | { readonly op: 'acquire'; readonly layers: readonly LayerSpec[]; readonly dryRun: boolean }
  /**
   * Token-bucket-only acquisitions issued in one tick (engines batch them into one round
   * trip): decided as if one after another, in call order.
   */
  | { readonly op: 'burst'; readonly layers: readonly LayerSpec[] }
  /** Releases the `pick`-th held lease (modulo how many are held). */
  | { readonly op: 'release'; readonly pick: number }
  /** Renews the `pick`-th held lease together with the others held on its key. */
  | { readonly op: 'renew'; readonly pick: number }
  /** Resets one key of a limiter (`id` set) or the whole limiter (`id` null). */
  | { readonly op: 'reset'; readonly p: number; readonly id: number | null }
  | { readonly op: 'advance'; readonly ms: number }
  /** Moves the clock to exactly the expiry of the `pick`-th held lease, plus `after` ms. */
  | { readonly op: 'expire'; readonly pick: number; readonly after: number }
  /** Lets exactly the last single-layer rejection's `retryAfterMs` pass and tries it again. */
  | { readonly op: 'retry' };

/** The policies every scenario draws from (ids tagged per run, so runs never share keys). */
export function makePolicies(tag: string): LimiterPolicy[] {
  return [
    toPolicy(`tb${tag}`, { store: 's', ratePerSecond: 3 }),
    toPolicy(`tbb${tag}`, { store: 's', ratePerSecond: 7, burst: 4 }),
    toPolicy(`sw${tag}`, { store: 's', algorithm: 'sliding_window', limit: 5, windowSeconds: 1 }),
    toPolicy(`cc${tag}`, { store: 's', maxConcurrent: 2, leaseSeconds: 0.5 }),
    toPolicy(`tbc${tag}`, {
      store: 's',
      ratePerSecond: 5,
      burst: 2,
      maxConcurrent: 2,
      leaseSeconds: 0.4,
    }),
    toPolicy(`swc${tag}`, {
      store: 's',
      algorithm: 'sliding_window',
      limit: 3,
      windowSeconds: 0.7,
      maxConcurrent: 2,
      leaseSeconds: 0.3,
    }),
    toPolicy(`sww${tag}`, {
      store: 's',
      algorithm: 'sliding_window',
      limit: 4,
      windowSeconds: 2.5,
    }),
  ];
}
const POLICY_COUNT = 7;
/** The global key, and two identifiers (one with a character the key escaping must handle). */
export const IDENTIFIERS = [undefined, 'alice', 'bob:1'] as const;
/** Waits: `try` (0), short and long timeouts, and unbounded. */
export const WAITS = [0, 50, 120.5, 400, 1000, Number.POSITIVE_INFINITY] as const;

const layerArb: fc.Arbitrary<LayerSpec> = fc.record({
  p: fc.nat({ max: POLICY_COUNT - 1 }),
  id: fc.nat({ max: IDENTIFIERS.length - 1 }),
  cost: fc.oneof(
    { arbitrary: fc.constant(1), weight: 3 },
    { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 1 },
  ),
  wait: fc.oneof(
    { arbitrary: fc.constant(0), weight: 2 },
    { arbitrary: fc.nat({ max: WAITS.length - 1 }), weight: 1 },
  ),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant('acquire' as const),
      // A composite call never names one limiter twice (RateSync builds it from distinct ones).
      layers: fc.uniqueArray(layerArb, { minLength: 1, maxLength: 3, selector: (l) => l.p }),
      dryRun: fc.oneof(
        { arbitrary: fc.constant(false), weight: 9 },
        { arbitrary: fc.constant(true), weight: 1 },
      ),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.constantFrom(0, 1, 100, 142.857, 300, 400, 500, 700, 1000, 2500),
        fc.double({ min: 0, max: 1500, noNaN: true }),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('burst' as const),
      layers: fc.array(
        layerArb.map((l) => ({ ...l, p: l.p % 2 })), // tb, tbb: the token-bucket-only policies
        { minLength: 2, maxLength: 6 },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('renew' as const), pick: fc.nat(9) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('reset' as const),
      p: fc.nat({ max: POLICY_COUNT - 1 }),
      id: fc.option(fc.nat({ max: IDENTIFIERS.length - 1 }), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('expire' as const),
      pick: fc.nat(9),
      after: fc.constantFrom(-0.5, 0, 0.001, 1),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'retry' as const }) },
);

/** A scenario: up to `maxLength` calls. */
export function scenarioArb(maxLength = 60): fc.Arbitrary<Op[]> {
  return fc.array(opArb, { minLength: 1, maxLength, size: 'max' });
}

/** What the scenarios exercised, so that a suite can check it covered every kind of outcome. */
export class Coverage {
  readonly seen = new Map<string, number>();
  add(what: string): void {
    this.seen.set(what, (this.seen.get(what) ?? 0) + 1);
  }
  missing(): string[] {
    return COVERAGE.filter((what) => !this.seen.get(what));
  }
}
const COVERAGE = [
  'admitted now',
  'reserved a wait',
  'rejected: rate',
  'rejected: concurrency',
  'composite partly rejected',
  'dry run',
  'renewed an expired lease',
  'expired a lease',
  'retried after retryAfterMs',
  'burst in one tick',
];

/** A disagreement between an engine and the reference model. */
export class Disagreement extends Error {}

interface Held {
  readonly policy: LimiterPolicy;
  readonly key: string;
  readonly id: string;
}

/**
 * Plays `ops` on `engine`, whose clock (a test clock for shared engines) is `clock`, and on a
 * fresh reference model at the same instants; throws a {@link Disagreement} at the first
 * decision that differs in any field. `tag` makes this run's limiter ids unique.
 */
export async function playScenario(
  engine: Engine,
  clock: ManualClock,
  ops: readonly Op[],
  tag: string,
  coverage?: Coverage,
): Promise<void> {
  const policies = makePolicies(tag);
  const model = new ReferenceModel();
  const held: Held[] = [];
  const log: string[] = [];
  let lastRejected: { requests: AcquireRequest[]; retryAfterMs: number } | undefined;
  let leaseSeq = 0;

  const toRequests = (layers: readonly LayerSpec[], dryRun: boolean): AcquireRequest[] =>
    layers.map((l) => {
      const policy = policies[l.p];
      return {
        policy,
        key: storageKey(policy.id, IDENTIFIERS[l.id]),
        cost: Math.min(l.cost, maxCost(policy)),
        maxWaitMs: WAITS[l.wait],
        leaseId: policy.concurrency ? `${tag}-L${leaseSeq++}` : undefined,
        dryRun: dryRun || undefined,
      };
    });

  const decide = async (requests: AcquireRequest[], step: number): Promise<void> => {
    const now = clock.now();
    const expected = model.acquire(requests, now);
    const actual = await engine.acquire(requests);
    const where = `step ${step} at t+${now - START}: acquire ${describeCall(requests)}`;
    log.push(where);
    compare(actual, expected, log);
    if (!coverage) {
      // (no bookkeeping)
    } else {
      if (requests.some((r) => r.dryRun)) coverage.add('dry run');
      if (expected.some((d) => d.allowed) && expected.some((d) => !d.allowed))
        coverage.add('composite partly rejected');
      for (const d of expected) {
        if (d.allowed) coverage.add(d.waitMs > 0 ? 'reserved a wait' : 'admitted now');
        else if (d.blockedBy) coverage.add(`rejected: ${d.blockedBy}`);
      }
    }
    const admitted = expected.every((d) => d.allowed);
    if (admitted && !requests.some((r) => r.dryRun)) {
      for (const r of requests)
        if (r.leaseId) held.push({ policy: r.policy, key: r.key, id: r.leaseId });
    }
    if (!admitted && requests.length === 1 && Number.isFinite(expected[0].retryAfterMs)) {
      lastRejected = { requests, retryAfterMs: expected[0].retryAfterMs };
    }
  };

  for (let step = 0; step < ops.length; step++) {
    const op = ops[step];
    switch (op.op) {
      case 'acquire':
        await decide(toRequests(op.layers, op.dryRun), step);
        break;
      case 'burst': {
        const calls = op.layers.map((l) => toRequests([l], false));
        const now = clock.now();
        const expected = calls.map((requests) => model.acquire(requests, now));
        const actual = await Promise.all(calls.map((requests) => engine.acquire(requests)));
        log.push(
          `step ${step} at t+${now - START}: burst of ${calls.map(describeCall).join(' | ')}`,
        );
        compare(actual.flat(), expected.flat(), log);
        coverage?.add('burst in one tick');
        break;
      }
      case 'retry': {
        if (!lastRejected) break;
        const { requests, retryAfterMs } = lastRejected;
        lastRejected = undefined;
        await clock.advance(retryAfterMs);
        log.push(`step ${step}: advance retryAfterMs ${retryAfterMs}`);
        coverage?.add('retried after retryAfterMs');
        await decide(
          requests.map((r) => ({
            ...r,
            leaseId: r.policy.concurrency ? `${tag}-L${leaseSeq++}` : undefined,
          })),
          step,
        );
        break;
      }
      case 'release': {
        if (!held.length) break;
        const [h] = held.splice(op.pick % held.length, 1);
        model.release(h.key, h.id);
        await engine.release(h.policy, h.key, h.id);
        log.push(`step ${step}: release ${h.id} of ${h.key}`);
        break;
      }
      case 'renew': {
        if (!held.length) break;
        const h = held[op.pick % held.length];
        const ids = held.filter((x) => x.key === h.key).map((x) => x.id);
        const now = clock.now();
        if (ids.some((id) => (model.leaseExpiry(h.key, id) ?? Infinity) <= now))
          coverage?.add('renewed an expired lease');
        model.renew(h.policy, h.key, ids, now);
        await engine.renew(h.policy, h.key, ids);
        log.push(`step ${step}: renew ${ids.join(',')} of ${h.key}`);
        break;
      }
      case 'reset': {
        const policy = policies[op.p];
        const key = op.id === null ? undefined : storageKey(policy.id, IDENTIFIERS[op.id]);
        model.reset(policy, key);
        await engine.reset(policy, key);
        for (let i = held.length - 1; i >= 0; i--) {
          if (held[i].policy === policy && (key === undefined || held[i].key === key))
            held.splice(i, 1);
        }
        log.push(`step ${step}: reset ${key ?? `${policy.id} (all keys)`}`);
        break;
      }
      case 'advance':
        await clock.advance(op.ms);
        log.push(`step ${step}: advance ${op.ms}`);
        break;
      case 'expire': {
        if (!held.length) break;
        const h = held[op.pick % held.length];
        const expiry = model.leaseExpiry(h.key, h.id);
        const now = clock.now();
        if (expiry === undefined || expiry + op.after <= now) break;
        // expiry - now is exact (both are close epoch values), so the clock lands on it exactly.
        await clock.advance(expiry - now + op.after);
        if (op.after >= 0) coverage?.add('expired a lease');
        log.push(
          `step ${step}: advance to lease ${h.id}'s expiry ${op.after >= 0 ? '+' : ''}${op.after}`,
        );
        break;
      }
    }
  }
}

/** Where every scenario's clock starts: an instant between milliseconds, as TIME gives them. */
export const START = 1_700_000_000_000.125;

/** A fresh manual clock at {@link START}. */
export function startClock(): ManualClock {
  return new ManualClock(START);
}

/**
 * A clock that forwards to a replaceable {@link ManualClock}: a shared engine is built once
 * with this as its test clock, and each scenario starts it afresh at {@link START}.
 */
export class SwitchableClock implements Clock {
  current = startClock();
  now(): number {
    return this.current.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.current.sleep(ms, signal);
  }
}

const FIELDS: readonly (keyof LayerDecision)[] = [
  'allowed',
  'waitMs',
  'retryAfterMs',
  'limit',
  'remaining',
  'resetAt',
  'now',
  'inFlight',
  'blockedBy',
  'evictedKeys',
  'refusedNewKey',
];

function compare(actual: LayerDecision[], expected: LayerDecision[], log: string[]): void {
  const diffs: string[] = [];
  if (actual.length !== expected.length)
    diffs.push(`${actual.length} decisions, expected ${expected.length}`);
  expected.forEach((e, i) => {
    const a = actual[i] ?? ({} as LayerDecision);
    for (const f of FIELDS) {
      if (a[f] !== e[f]) diffs.push(`layer ${i} ${f}: ${String(a[f])}, expected ${String(e[f])}`);
    }
  });
  if (diffs.length) {
    throw new Disagreement(`${diffs.join('\n')}\nafter:\n${log.slice(-10).join('\n')}`);
  }
}

function describeCall(requests: readonly AcquireRequest[]): string {
  return requests
    .map(
      (r) =>
        `${r.key} cost ${r.cost} wait ${r.maxWaitMs}${r.dryRun ? ' dry' : ''}${r.leaseId ? ` lease ${r.leaseId}` : ''}`,
    )
    .join(' + ');
}
