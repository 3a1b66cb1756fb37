import type { AcquireRequest, LayerDecision } from '../engine';
import type { AcquireCall } from './acquire-codec';
import { slotOf } from './cluster-slot';
import { errorText } from '../../error-text';

/** What {@link acquireAcrossSlots} needs from the engine. */
export interface SlotRunner {
  /** Encodes the layers of one slot; `writeNothing`: decide them without writing. */
  encode(requests: readonly AcquireRequest[], writeNothing?: boolean): AcquireCall;
  /** Runs the acquire script; resolves to one decision per layer. */
  decide(requests: readonly AcquireRequest[], call: AcquireCall): Promise<LayerDecision[]>;
  /** Runs the undo script with the KEYS/ARGV of a committed acquire call of these layers. */
  undo(requests: readonly AcquireRequest[], call: AcquireCall): Promise<void>;
  /** Reports a failed undo (its state then expires with its TTL). */
  warn(message: string): void;
}

/** True when every layer lives in one cluster slot (one atomic script call is possible). */
export function sameSlot(requests: readonly AcquireRequest[]): boolean {
  const first = slotOf(requests[0].key);
  return requests.every((r) => slotOf(r.key) === first);
}

/**
 * A composite acquisition whose layers live in several Redis Cluster slots: Lua cannot touch
 * them atomically, so the slots are decided one after another in ascending slot order, each
 * slot all-or-nothing. When a slot rejects, the slots already committed are undone and every
 * other slot is decided without writing, so the caller gets every layer's decision, each
 * reporting its state as it is, and nothing stays consumed. The price: between a commit and its undo (one round trip), a concurrent
 * caller may see that capacity as taken. Dry-run acquisitions decide every slot in parallel.
 */
export async function acquireAcrossSlots(
  requests: readonly AcquireRequest[],
  run: SlotRunner,
): Promise<LayerDecision[]> {
  const groups = groupBySlot(requests);
  const out = new Array<LayerDecision>(requests.length);
  const place = (idx: number[], ds: LayerDecision[]): void =>
    idx.forEach((i, j) => (out[i] = ds[j]));
  const dry = requests.some((r) => r.dryRun);
  if (dry) {
    await Promise.all(
      groups.map(async (g) => place(g.idx, await run.decide(g.reqs, run.encode(g.reqs)))),
    );
    return out;
  }
  const committed: { reqs: AcquireRequest[]; call: AcquireCall }[] = [];
  for (let n = 0; n < groups.length; n++) {
    const g = groups[n];
    const call = run.encode(g.reqs);
    let ds: LayerDecision[];
    try {
      ds = await run.decide(g.reqs, call);
    } catch (err) {
      await undoAll(committed, run);
      throw err;
    }
    place(g.idx, ds);
    if (ds.every((d) => d.allowed)) {
      committed.push({ reqs: g.reqs, call });
      continue;
    }
    await undoAll(committed, run);
    // Every other slot, the undone ones included, reports its state as it is (uncharged).
    const others = groups.filter((_, m) => m !== n);
    await Promise.all(
      others.map(async (r) => place(r.idx, await run.decide(r.reqs, run.encode(r.reqs, true)))),
    );
    return out;
  }
  return out;
}

async function undoAll(
  calls: readonly { reqs: AcquireRequest[]; call: AcquireCall }[],
  run: SlotRunner,
): Promise<void> {
  await Promise.all(
    calls.map((c) =>
      run
        .undo(c.reqs, c.call)
        .catch((err) =>
          run.warn(
            `could not undo a cross-slot composite layer (its lease is given back once Redis answers, the rest expires with its TTL): ${errorText(err)}`,
          ),
        ),
    ),
  );
}

function groupBySlot(
  requests: readonly AcquireRequest[],
): { reqs: AcquireRequest[]; idx: number[] }[] {
  const bySlot = new Map<number, { reqs: AcquireRequest[]; idx: number[] }>();
  requests.forEach((r, i) => {
    const slot = slotOf(r.key);
    let g = bySlot.get(slot);
    if (!g) bySlot.set(slot, (g = { reqs: [], idx: [] }));
    g.reqs.push(r);
    g.idx.push(i);
  });
  return [...bySlot.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}
