import { ACQUIRE_ARGS, DECISION_FIELDS, DECISION_WIDTH } from './acquire.sql';

/** The argument types of `<table>_block`: those of `<table>_acquire`, then the blocks. */
export const BLOCK_ARGS = `${ACQUIRE_ARGS}, double precision[]`;

/** 1-based position of a decision field in one layer's slice (SQL arrays start at 1). */
const at = (name: (typeof DECISION_FIELDS)[number]): string =>
  `o + ${DECISION_FIELDS.indexOf(name) + 1}`;

/**
 * The decision function for calls where a layer has `block_seconds`: `<table>_block`, the
 * arguments of `<table>_acquire` (which it calls, unchanged) plus `p_block_ms`, per layer the
 * block length in ms or NULL. It mirrors the memory engine's `blockedLayers` and
 * `decideLayer`'s `blockUntil`, in one transaction:
 *
 * 1. Locks the layers' existing rows in bytewise order (as `<table>_acquire` locks them), then
 *    reads each layer's block: the row `<key> b` (a space never occurs in a storage key), whose
 *    `tat` holds the epoch ms until which the key is blocked and whose `expires_at` lets the
 *    periodic cleanup delete it. A block is only written under its key's row lock, so a block
 *    written by a concurrent rejection is seen.
 * 2. When a layer's key is blocked, every layer is decided as a dry run (nothing consumed) and
 *    each blocked layer is rejected: retry after the block's end, remaining 0, reset at least
 *    the block's end.
 * 3. Otherwise `<table>_acquire` decides; unless the call is a dry run, each layer with a block
 *    that it rejected for the rate blocks its key for the block length from now, and its retry
 *    delay and reset say so. A block is never extended while it lasts.
 */
export function blockBody(qTable: string, qAcquire: string): string {
  return `
DECLARE
  n         integer := cardinality(p_keys);
  v_dry     boolean := true = ANY (p_dry_run);
  v_now     float8;
  v_until   float8[] := array_fill(NULL::float8, ARRAY[cardinality(p_keys)]);
  v_blocked boolean := false;
  v_out     float8[];
  o         integer;
BEGIN
  IF NOT v_dry THEN
    PERFORM 1 FROM ${qTable} WHERE key = ANY (p_keys) ORDER BY key COLLATE "C" FOR UPDATE;
  END IF;
  v_now := coalesce(p_now, (extract(epoch FROM clock_timestamp()) * 1000)::float8);
  FOR i IN 1 .. n LOOP
    IF p_block_ms[i] IS NOT NULL THEN
      v_until[i] := (SELECT b.tat FROM ${qTable} AS b WHERE b.key = p_keys[i] || ' b' AND b.tat > v_now);
      IF v_until[i] IS NOT NULL THEN v_blocked := true; END IF;
    END IF;
  END LOOP;
  v_out := ${qAcquire}(p_keys, p_cost, p_max_wait, p_interval, p_burst, p_limit, p_window, p_max,
    p_lease_ms, p_lease_id, CASE WHEN v_blocked THEN array_fill(true, ARRAY[n]) ELSE p_dry_run END,
    p_sync, p_now);
  FOR i IN 1 .. n LOOP
    o := (i - 1) * ${DECISION_WIDTH};
    IF v_until[i] IS NOT NULL THEN
      v_out[${at('allowed')}] := 0;
      v_out[${at('waitMs')}] := 0;
      v_out[${at('retryAfterMs')}] := v_until[i] - v_now;
      v_out[${at('remaining')}] := 0;
      v_out[${at('resetAt')}] := greatest(v_out[${at('resetAt')}], v_until[i]);
      v_out[${at('blockedBy')}] := 1;
    ELSIF NOT v_blocked AND NOT v_dry AND p_block_ms[i] IS NOT NULL AND v_out[${at('blockedBy')}] = 1 THEN
      INSERT INTO ${qTable} AS x (key, tat, expires_at)
        VALUES (p_keys[i] || ' b', v_now + p_block_ms[i], v_now + p_block_ms[i])
        ON CONFLICT (key) DO UPDATE SET tat = excluded.tat, expires_at = excluded.expires_at;
      v_out[${at('retryAfterMs')}] := greatest(v_out[${at('retryAfterMs')}], p_block_ms[i]);
      v_out[${at('resetAt')}] := greatest(v_out[${at('resetAt')}], v_now + p_block_ms[i]);
    END IF;
  END LOOP;
  RETURN v_out;
END
`;
}

/** `CREATE OR REPLACE FUNCTION` statement of `<table>_block`. */
export function blockFunction(qTable: string, qAcquire: string, qBlock: string): string {
  return `CREATE OR REPLACE FUNCTION ${qBlock}(
  p_keys text[], p_cost integer[], p_max_wait double precision[],
  p_interval double precision[], p_burst integer[],
  p_limit integer[], p_window double precision[],
  p_max integer[], p_lease_ms double precision[], p_lease_id text[],
  p_dry_run boolean[], p_sync text, p_now double precision,
  p_block_ms double precision[])
RETURNS double precision[]
LANGUAGE plpgsql VOLATILE
AS $rate_sync$${blockBody(qTable, qAcquire)}$rate_sync$`;
}
