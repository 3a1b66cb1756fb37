import type { AcquireRequest, LayerDecision } from '../engines/engine';
import { policyLimit } from '../policy';
import { concurrency } from './concurrency';
import { gcra, gcraRemaining } from './gcra';
import {
  EMPTY_WINDOW_LOG,
  lastEntryAt,
  slidingWindow,
  windowRemaining,
  type WindowLog,
} from './sliding-window';

/** The state of one key, as the reference model sees it. */
export interface KeyState {
  /** GCRA theoretical arrival time, epoch ms. */
  tat?: number;
  /** Sliding window log, ascending by time: one entry per admission, weighted by its cost. */
  entries?: WindowLog;
  /** Concurrency leases: id -> expiry epoch ms. */
  leases?: Map<string, number>;
  /** `block_seconds`: epoch ms until which the key is rejected. */
  blockedUntil?: number;
}

/** What to write for one admitted layer. */
export interface LayerWrite {
  readonly tat?: number;
  readonly entries?: WindowLog;
  readonly lease?: { readonly id: string; readonly expiresAt: number };
  /**
   * `block_seconds`: a rejection for the rate blocks the key until this epoch ms. Written even
   * though the layer is rejected, unless the call is a dry run.
   */
  readonly blockUntil?: number;
}

/**
 * Decides one layer (combined policies included, DESIGN 3.3): the concurrency part is checked
 * first and, when full, the rate part is not consumed; the rate part is consumed only with a
 * concurrency slot. Returns the decision and what to write if the whole acquisition commits.
 * `remaining`, `inFlight` and `resetAt` describe the state after the decision: for a dry run
 * or a rejection, the state as it is.
 */
export function decideLayer(
  state: KeyState,
  now: number,
  req: AcquireRequest,
): { decision: LayerDecision; write: LayerWrite } {
  const p = req.policy;
  const conc = p.concurrency
    ? concurrency(state.leases?.values() ?? [], now, p.concurrency.max)
    : undefined;
  const maxWait = conc && !conc.allowed ? -1 : req.maxWaitMs;
  const g = p.gcra ? gcra(state.tat, now, p.gcra, req.cost, maxWait) : undefined;
  const w = p.window
    ? slidingWindow(state.entries ?? EMPTY_WINDOW_LOG, now, p.window, req.cost, maxWait)
    : undefined;
  const rate = g ?? w;

  const concOk = conc?.allowed ?? true;
  const rateOk = concOk && (rate?.allowed ?? true);
  const allowed = concOk && rateOk;
  // A dry run reports the state as it is: nothing consumed.
  const consumed = allowed && !req.dryRun;
  const active = conc ? conc.active + (consumed ? 1 : 0) : undefined;
  const concRemaining =
    p.concurrency && active !== undefined ? p.concurrency.max - active : Infinity;
  // A rejected rate part already reports the state as it is; only an admission that consumed
  // nothing (a dry run, a concurrency rejection) must be measured again.
  const rateRemaining = !rate
    ? Infinity
    : consumed || !rate.allowed
      ? rate.remaining
      : p.gcra
        ? gcraRemaining(state.tat ?? now, now, p.gcra)
        : windowRemaining(state.entries ?? EMPTY_WINDOW_LOG, now, p.window!);

  let blockedBy: LayerDecision['blockedBy'];
  if (!concOk) blockedBy = 'concurrency';
  else if (!rateOk) blockedBy = 'rate';

  const leaseExpiry = p.concurrency ? now + p.concurrency.leaseMs : 0;
  // block_seconds: a rejection for the rate (not a dry run) blocks the key from now on.
  const blockUntil = p.blockMs && blockedBy === 'rate' && !req.dryRun ? now + p.blockMs : undefined;
  let retryAfterMs = !concOk ? conc!.retryAfterMs : !rateOk ? rate!.retryAfterMs : 0;
  if (blockUntil !== undefined) retryAfterMs = Math.max(retryAfterMs, p.blockMs!);
  const decision: LayerDecision = {
    allowed,
    waitMs: allowed ? (rate?.waitMs ?? 0) : 0,
    retryAfterMs,
    limit: policyLimit(p),
    remaining: Math.max(0, Math.min(rateRemaining, concRemaining)),
    resetAt: Math.max(
      consumed ? (rate?.resetAt ?? now) : unconsumedReset(state, now, p),
      conc ? (consumed ? Math.max(conc.resetAt, leaseExpiry) : conc.resetAt) : now,
      blockUntil ?? now,
    ),
    inFlight: active,
    blockedBy,
    now,
    entryAt: consumed && w ? w.at : undefined,
  };
  const write: LayerWrite = {
    tat: g?.tat,
    entries: w?.entries,
    lease: p.concurrency && req.leaseId ? { id: req.leaseId, expiresAt: leaseExpiry } : undefined,
    blockUntil,
  };
  return { decision, write };
}

/**
 * A layer whose key is blocked (`block_seconds`) until `until`: rejected for its rate, nothing
 * consumed. `asIs` is the layer decided as a dry run (the state as it is); every engine
 * decides the layers of a call with a blocked key that way, then overrides the blocked ones.
 */
export function blockedDecision(asIs: LayerDecision, now: number, until: number): LayerDecision {
  return {
    ...asIs,
    allowed: false,
    waitMs: 0,
    retryAfterMs: until - now,
    remaining: 0,
    resetAt: Math.max(asIs.resetAt, until),
    blockedBy: 'rate',
    entryAt: undefined,
  };
}

/** When the rate part of an untouched key is back to full capacity. */
function unconsumedReset(state: KeyState, now: number, p: AcquireRequest['policy']): number {
  if (p.gcra) return Math.max(state.tat ?? now, now);
  if (p.window) {
    const last = state.entries && lastEntryAt(state.entries);
    return last !== undefined && last > now - p.window.windowMs ? last + p.window.windowMs : now;
  }
  return now;
}
