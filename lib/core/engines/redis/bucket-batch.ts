import { decideLayer } from '../../algorithms/decide';
import type { AcquireRequest, LayerDecision } from '../engine';

/** At most this many decisions per script call; a bigger tick is sent as several calls. */
export const MAX_BATCH = 128;

/**
 * A tick of this many decisions or more goes as two calls at least, so that the client decodes
 * one reply while Redis runs the next call (see `TickBatcher`'s `splitFrom`). Measured with the
 * engine alone on 2 cores, 3 interleaved rounds, against one call per tick: +30–55% at 16 and
 * 64 in flight on one key and on 10,000 keys (docs/performance.md).
 */
export const SPLIT_FROM = 16;

/** One token-bucket decision waiting for its tick's script call. */
export interface BucketCall {
  readonly request: AcquireRequest;
  /** The Redis key, `<prefix>:{<storageKey>}:t`. */
  readonly key: string;
  /** The request's spec argument (see `scripts/gcra.script.ts`). */
  readonly arg: string;
}

/**
 * KEYS and ARGV of one call of `scripts/gcra.script.ts`: for one decision, those of
 * `GCRA_ONE_LUA` (its key, and its spec); for more, those of `GCRA_LUA` (each distinct key and
 * spec once, and the plan naming them per decision).
 */
export function encodeBatch(
  batch: readonly BucketCall[],
  now: number | undefined,
): { keys: string[]; args: string[] } {
  const testNow = now === undefined ? '' : String(now);
  if (batch.length === 1) return { keys: [batch[0].key], args: [testNow, batch[0].arg] };
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
export function decodeBatch(batch: readonly BucketCall[], reply: string): LayerDecision[] {
  const parts = reply.split(';');
  if (parts.length !== batch.length + 1) throw new Error(`malformed reply: ${reply}`);
  const now = replyNow(parts[0]);
  const out = new Array<LayerDecision>(batch.length);
  for (let i = 0; i < batch.length; i++) out[i] = decide(batch[i], now, parts[i + 1]);
  return out;
}

/** {@link decodeBatch} for a call of one decision (`GCRA_ONE_LUA`'s reply), without its arrays. */
export function decodeOne(call: BucketCall, reply: string): LayerDecision {
  const semi = reply.indexOf(';');
  if (semi < 0 || reply.indexOf(';', semi + 1) >= 0) throw new Error(`malformed reply: ${reply}`);
  return decide(call, replyNow(reply.slice(0, semi)), reply.slice(semi + 1));
}

/** The reply's instant: TIME's "<seconds> <microseconds>", or a test clock's epoch ms. */
function replyNow(clock: string): number {
  const space = clock.indexOf(' ');
  return space < 0
    ? Number(clock)
    : Number(clock.slice(0, space)) * 1000 + Number(clock.slice(space + 1)) / 1000;
}

/** The decision the script made at `now` from the tat `raw` as stored ('' for no state). */
function decide(call: BucketCall, now: number, raw: string): LayerDecision {
  return decideLayer({ tat: raw === '' ? undefined : Number(raw) }, now, call.request).decision;
}
