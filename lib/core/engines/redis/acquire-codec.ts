import { randomBytes } from 'node:crypto';
import { policyLimit, type LimiterPolicy } from '../../policy';
import type { AcquireRequest, LayerDecision } from '../engine';
import { layerKeys } from './redis-keys';

/** KEYS and ARGV of one acquire script call (layout documented in `scripts/acquire.script.ts`). */
export interface AcquireCall {
  readonly keys: string[];
  readonly args: string[];
  /**
   * A layer has `block_seconds`: the call is for the blocking script
   * (`scripts/blocking-acquire.script.ts`), with one more key and argument per layer.
   */
  readonly blocking?: boolean;
}

/**
 * One layer's reply: allowed, waitMs, retryAfterMs, remaining, resetAt, inFlight, blockedBy,
 * now, entryAt.
 */
export type LayerReply = [string, string, string, string, string, string, string, string, string?];

/** Per-process random part of the window entry tokens, plus a counter: unique and short. */
const PROCESS_TAG = randomBytes(6).toString('base64url');
let counter = 0;

/** A token unique to one call (names the window entries it records). ~12 characters. */
export function callToken(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return PROCESS_TAG + counter.toString(36);
}

/**
 * Encodes layers as KEYS/ARGV. `now` is a test-only override of the server clock. One dry
 * layer makes the whole call write nothing (as in the memory engine); so does `writeNothing`.
 * A call that writes nothing reports every layer's state as it is.
 */
export function encodeAcquire(
  prefix: string,
  requests: readonly AcquireRequest[],
  now: number | undefined,
  token: string,
  writeNothing = false,
): AcquireCall {
  const keys: string[] = [];
  const args: string[] = [now === undefined ? '' : String(now), '0', token];
  let dry = writeNothing;
  for (const r of requests) {
    const k = layerKeys(prefix, r.key);
    keys.push(k.tat, k.window, k.leases);
    const { gcra, window, concurrency } = r.policy;
    args.push(
      gcra ? String(gcra.intervalMs) : '',
      gcra ? String(gcra.burst) : '',
      window ? String(window.limit) : '',
      window ? String(window.windowMs) : '',
      concurrency ? String(concurrency.max) : '',
      concurrency ? String(concurrency.leaseMs) : '',
      String(r.cost),
      r.maxWaitMs === Number.POSITIVE_INFINITY ? 'inf' : String(r.maxWaitMs),
      r.leaseId ?? '',
      r.dryRun ? '1' : '',
    );
    if (r.dryRun) dry = true;
  }
  if (dry) args[1] = '1';
  if (!requests.some((r) => r.policy.blockMs)) return { keys, args };
  for (const r of requests) {
    keys.push(layerKeys(prefix, r.key).block);
    args.push(r.policy.blockMs ? String(r.policy.blockMs) : '');
  }
  return { keys, args, blocking: true };
}

/** Decodes the script's reply into one decision per layer. */
export function decodeAcquire(
  requests: readonly AcquireRequest[],
  reply: readonly LayerReply[],
): LayerDecision[] {
  const out = new Array<LayerDecision>(reply.length);
  for (let i = 0; i < reply.length; i++) {
    const r = reply[i];
    out[i] = {
      allowed: r[0] === '1',
      waitMs: toNumber(r[1]),
      retryAfterMs: toNumber(r[2]),
      limit: policyLimit(requests[i].policy),
      remaining: toNumber(r[3]),
      resetAt: toNumber(r[4]),
      inFlight: r[5] === '' ? undefined : Number(r[5]),
      blockedBy: r[6] === '' ? undefined : (r[6] as 'rate' | 'concurrency'),
      now: Number(r[7]),
      entryAt: r[8] ? Number(r[8]) : undefined,
    };
  }
  return out;
}

/** True when the policy is a token bucket and nothing else (the GCRA script's case). */
export function isBucketOnly(p: LimiterPolicy): boolean {
  return p.gcra !== undefined && p.window === undefined && p.concurrency === undefined;
}

/** Parses a `%.17g` number; Lua prints infinity as `inf`. */
function toNumber(s: string): number {
  return s === 'inf' ? Number.POSITIVE_INFINITY : Number(s);
}
