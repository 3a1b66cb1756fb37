/**
 * Scenarios kept as fixed regression cases: boundaries worth replaying on every engine in
 * every run, and the shrunk counterexamples the random suites found (each with what it found).
 * Policy indices (`p`) are those of `makePolicies()`: 0 tb 3/s, 1 tbb 7/s burst 4, 2 sw 5 per
 * 1 s, 3 cc 2 leases of 0.5 s, 4 tbc 5/s burst 2 + 2 leases, 5 swc 3 per 0.7 s + 2 leases,
 * 6 sww 4 per 2.5 s. `id` indexes the identifiers (global, alice, bob:1), `wait` the waits
 * (0, 50, 120.5, 400, 1000, Infinity).
 */
import type { Op } from './engine-scenario';

const take = (p: number, extra: { id?: number; cost?: number; wait?: number } = {}): Op => ({
  op: 'acquire',
  layers: [{ p, id: extra.id ?? 0, cost: extra.cost ?? 1, wait: extra.wait ?? 0 }],
  dryRun: false,
});

export const REGRESSIONS: readonly { readonly name: string; readonly ops: readonly Op[] }[] = [
  {
    name: 'a lease is expired at exactly its expiry, and renewing it then does not revive it',
    ops: [
      take(3),
      take(3),
      take(3),
      { op: 'expire', pick: 0, after: 0 },
      { op: 'renew', pick: 0 },
      take(3),
      take(3),
      take(3),
    ],
  },
  {
    name: 'a lease still counts just before its expiry',
    ops: [take(3), take(3), { op: 'expire', pick: 1, after: -0.5 }, take(3)],
  },
  {
    name: 'a token bucket of 3/s (interval 333.33... ms) admits a retry after exactly retryAfterMs',
    ops: [take(0), take(0), { op: 'retry' }, take(0), { op: 'retry' }],
  },
  {
    name: 'a full window admits a retry after exactly retryAfterMs, weighted entries included',
    ops: [take(2, { cost: 3 }), take(2, { cost: 2 }), take(2, { cost: 2 }), { op: 'retry' }],
  },
  {
    name: 'a composite whose concurrency layer is full consumes nothing on its other layers',
    ops: [
      take(3),
      take(3),
      {
        op: 'acquire',
        layers: [
          { p: 1, id: 0, cost: 4, wait: 0 },
          { p: 3, id: 0, cost: 1, wait: 0 },
        ],
        dryRun: false,
      },
      take(1, { cost: 4 }),
    ],
  },
  {
    name: 'queued reservations with timeouts and unbounded waits, on a bucket and on windows',
    ops: [
      take(1, { cost: 4, wait: 5 }),
      take(1, { cost: 2, wait: 3 }),
      take(1, { cost: 1, wait: 4 }),
      take(2, { cost: 5, wait: 5 }),
      take(2, { cost: 3, wait: 4 }),
      take(2, { cost: 3, wait: 5 }),
      take(6, { cost: 4, wait: 5, id: 2 }),
      take(6, { cost: 1, wait: 5, id: 2 }),
      { op: 'advance', ms: 1000 },
      take(2, { cost: 1, wait: 0 }),
    ],
  },
  {
    name: 'resetting a whole limiter frees its leases and its rate on every identifier',
    ops: [
      take(4, { id: 1 }),
      take(4, { id: 1 }),
      take(4, { id: 2, cost: 2 }),
      { op: 'reset', p: 4, id: null },
      take(4, { id: 1 }),
      take(4, { id: 2, cost: 2 }),
    ],
  },
];
