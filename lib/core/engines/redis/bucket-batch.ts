import { decideLayer } from '../../algorithms/decide';
import type { AcquireRequest, LayerDecision } from '../engine';
import { slotOf } from './cluster-slot';

/** At most this many decisions per script call; a bigger tick is sent as several calls. */
export const MAX_BATCH = 128;

/** What a {@link BucketBatcher} sends: one token-bucket script call for these keys and args. */
export type RunBucketScript = (keys: string[], args: string[]) => Promise<unknown>;

interface Pending {
  readonly request: AcquireRequest;
  /** The Redis key, `<prefix>:{<storageKey>}:t`. */
  readonly key: string;
  /** The request's spec argument (see `scripts/gcra.script.ts`). */
  readonly arg: string;
  readonly resolve: (d: LayerDecision[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Sends the token-bucket decisions of one tick as one script call (`scripts/gcra.script.ts`
 * decides them one after another, each as if alone). The first decision of a tick schedules
 * the flush with `process.nextTick`, which runs once the microtask queue is empty: every
 * decision that callers start while handling the same batch of replies joins the call. At one
 * decision in flight the call carries one decision, as without batching.
 *
 * Why: each command costs ioredis a socket write and a reply parse, and Redis a command
 * dispatch, about as much as the script itself. A batch pays them once. On a cluster, a call
 * holds the keys of one slot only, so a tick is split by slot.
 */
export class BucketBatcher {
  private queue: Pending[] = [];

  constructor(
    private readonly run: RunBucketScript,
    private readonly isCluster: boolean,
    /** Test-only: `now` in epoch ms instead of the server's clock. */
    private readonly now?: () => number,
  ) {}

  decide(request: AcquireRequest, key: string, arg: string): Promise<LayerDecision[]> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) process.nextTick(this.flush);
      this.queue.push({ request, key, arg, resolve, reject });
    });
  }

  private readonly flush = (): void => {
    const queue = this.queue;
    this.queue = [];
    if (!this.isCluster) {
      for (let i = 0; i < queue.length; i += MAX_BATCH) this.send(queue.slice(i, i + MAX_BATCH));
      return;
    }
    const bySlot = new Map<number, Pending[]>();
    for (const p of queue) {
      const slot = slotOf(p.request.key);
      const group = bySlot.get(slot);
      if (group) group.push(p);
      else bySlot.set(slot, [p]);
    }
    for (const group of bySlot.values()) {
      for (let i = 0; i < group.length; i += MAX_BATCH) this.send(group.slice(i, i + MAX_BATCH));
    }
  };

  private send(batch: Pending[]): void {
    const { keys, args } = encodeBatch(batch, this.now?.());
    this.run(keys, args).then(
      (reply) => {
        let decisions: LayerDecision[];
        try {
          decisions = decodeBatch(batch, String(reply));
        } catch (err) {
          for (const p of batch) p.reject(err);
          return;
        }
        for (let i = 0; i < batch.length; i++) batch[i].resolve([decisions[i]]);
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}

/**
 * KEYS and ARGV of one call (layout in `scripts/gcra.script.ts`): each distinct key and spec
 * once, and the plan naming them per decision.
 */
export function encodeBatch(
  batch: readonly { readonly key: string; readonly arg: string }[],
  now: number | undefined,
): { keys: string[]; args: string[] } {
  const testNow = now === undefined ? '' : String(now);
  if (batch.length === 1) return { keys: [batch[0].key], args: [testNow, '1:1', batch[0].arg] };
  const keys: string[] = [];
  const args = [testNow, ''];
  const keyIndex = new Map<string, number>();
  const specIndex = new Map<string, number>();
  const plan = new Array<string>(batch.length);
  // Consecutive decisions usually name the same key and spec: compare with the last first.
  let lastKey = '';
  let lastArg = '';
  let k = 0;
  let s = 0;
  for (let i = 0; i < batch.length; i++) {
    const { key, arg } = batch[i];
    if (key !== lastKey) {
      const known = keyIndex.get(key);
      if (known === undefined) keyIndex.set(key, (k = keys.push(key)));
      else k = known;
      lastKey = key;
    }
    if (arg !== lastArg) {
      const known = specIndex.get(arg);
      if (known === undefined) specIndex.set(arg, (s = args.push(arg) - 2));
      else s = known;
      lastArg = arg;
    }
    plan[i] = `${k}:${s}`;
  }
  args[1] = plan.join(' ');
  return { keys, args };
}

/**
 * Each decision of a call, recomputed by the reference model from the instant and the state
 * the script decided it from, with the same arithmetic, so it is the decision the script made.
 */
function decodeBatch(batch: readonly Pending[], reply: string): LayerDecision[] {
  const parts = reply.split(';');
  if (parts.length !== batch.length + 1) throw new Error(`malformed reply: ${reply}`);
  const clock = parts[0];
  const space = clock.indexOf(' ');
  const now =
    space < 0
      ? Number(clock)
      : Number(clock.slice(0, space)) * 1000 + Number(clock.slice(space + 1)) / 1000;
  const out = new Array<LayerDecision>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const raw = parts[i + 1];
    const tat = raw === '' ? undefined : Number(raw);
    out[i] = decideLayer({ tat }, now, batch[i].request).decision;
  }
  return out;
}
