/**
 * `<table>_batch`, installed next to `<table>_acquire`: decides, in one call and one
 * transaction, the lone token buckets (Statements.acquireTokenBucket's case) that one process
 * issued in the same tick. One round trip and one commit then serve many decisions, and a hot
 * key's row is locked and written once per batch instead of once per decision.
 *
 * Decisions are taken one after another in arrival order, each on the state the previous ones
 * left, all at one `now`: exactly as that many single statements at one instant would. GCRA
 * is gcra.ts's, with the same order of floating-point operations as the single statement, so
 * the caller can recompute each decision with the reference model from what is returned.
 *
 * Parameters:
 * - p_keys      the storage keys, each once (ON CONFLICT cannot take a row twice), any order
 * then one array element per decision, in arrival order:
 * - p_slot      its key's index in p_keys (1-based; several decisions may share a key)
 * - p_cost      units to take (1 <= cost <= burst)
 * - p_interval  GCRA emission interval T, ms
 * - p_burst     burst
 * - p_max_wait  ms the caller accepts to wait for its slot ('Infinity' allowed)
 * - p_sync      `synchronous_commit` of this transaction
 * - p_now       tests only: decide at this epoch ms instead of clock_timestamp()
 *
 * Returns a double precision[] of 1 + n numbers: the `now` of every decision (epoch ms), then
 * per decision the key's tat before it (NULL: no state). A rejection consumes nothing.
 *
 * Locking: one INSERT ... ON CONFLICT DO UPDATE ... WHERE false over the keys in bytewise
 * order locks each existing row (the conflict arm locks every row; `WHERE false` only
 * skips the write) and creates and so locks each missing one, key after key: what
 * `<table>_acquire` does one statement per key, in the same order as it and as resetting a
 * limiter, so concurrent calls cannot deadlock; a row deleted meanwhile is simply inserted.
 * `now` is read once the locks are held. Each touched row is then written once, as a run of
 * single statements would leave it: tat, expires_at = tat when anything was admitted, and
 * prev_tat / decided_at of its last decision.
 *
 * Plans: the statements take arrays, whose sizes a plan cannot know. PostgreSQL would plan
 * them again on each call (a custom plan looks cheaper for a small array), which doubled the
 * cost of a call of a few keys; and a plan made while the table was small (a sequential scan)
 * would be kept until the table is next analyzed, which made a call of 64 keys 10 times slower
 * on a new table filling up to 10,000 keys. Hence generic plans, and no sequential scans.
 */
export const BATCH_ARGS =
  'text[], integer[], integer[], double precision[], integer[], double precision[], text, ' +
  'double precision';

/** The body (`prosrc`) of `<table>_batch` for the table `qTable` (`"schema"."table"`). */
export function batchBody(qTable: string): string {
  return `
DECLARE
  n        integer := cardinality(p_slot);
  m        integer := cardinality(p_keys);
  v_tat    float8[];                                    -- per key: tat so far (NULL: no state)
  v_prev   float8[] := array_fill(NULL::float8, ARRAY[m]); -- per key: tat before its last decision
  v_hit    boolean[] := array_fill(false, ARRAY[m]);    -- per key: something was admitted
  v_out    float8[] := array_fill(NULL::float8, ARRAY[n + 1]);
  v_now    float8;
  j integer; t float8; v_base float8; v_w float8;
BEGIN
  PERFORM set_config('synchronous_commit', p_sync, true);
  -- 1. Lock (or create, which locks) every key's row, in bytewise order; then read them.
  INSERT INTO ${qTable} AS x (key, expires_at)
    SELECT k, 0 FROM unnest(p_keys) AS k ORDER BY k COLLATE "C"
    ON CONFLICT (key) DO UPDATE SET expires_at = x.expires_at WHERE false;
  v_tat := ARRAY(SELECT s.tat FROM unnest(p_keys) WITH ORDINALITY AS u(k, o)
                   LEFT JOIN ${qTable} AS s ON s.key = u.k ORDER BY u.o);
  v_now := coalesce(p_now, (extract(epoch FROM clock_timestamp()) * 1000)::float8);

  -- 2. Decide in arrival order, each on the state the previous ones left.
  v_out[1] := v_now;
  FOR i IN 1 .. n LOOP
    j := p_slot[i];
    v_out[i + 1] := v_tat[j];
    v_prev[j] := v_tat[j];
    -- gcra(): due at max(tat, now) + (cost - 1) * T - (burst - 1) * T; admitted within max wait.
    t := p_interval[i];
    v_base := greatest(coalesce(v_tat[j], v_now), v_now);
    v_w := v_base + (p_cost[i] - 1) * t - (p_burst[i] - 1) * t - v_now;
    IF v_w <= 0 OR v_w <= p_max_wait[i] THEN
      v_tat[j] := v_base + p_cost[i] * t;
      v_hit[j] := true;
    END IF;
  END LOOP;

  -- 3. Write each row once.
  UPDATE ${qTable} AS x SET
    tat = w.tat,
    expires_at = CASE WHEN w.hit THEN w.tat ELSE x.expires_at END,
    prev_tat = w.prev,
    decided_at = v_now
  FROM unnest(p_keys, v_tat, v_prev, v_hit) AS w(key, tat, prev, hit)
  WHERE x.key = w.key;
  RETURN v_out;
END
`;
}

/**
 * The `SET` clauses of `<table>_batch`, as pg_proc.proconfig holds them (`name=value`), in DDL
 * order: generic plans and no sequential scans (see the header). The DDL writes them from
 * here, and the schema check compares the installed function's with them.
 */
export const BATCH_SETTINGS: readonly string[] = [
  'plan_cache_mode=force_generic_plan',
  'enable_seqscan=off',
];

/** `CREATE FUNCTION` statement of `<table>_batch`. */
export function batchFunction(qTable: string, qBatch: string): string {
  const set = BATCH_SETTINGS.map((s) => `SET ${s.replace('=', ' = ')}`).join(' ');
  return `CREATE OR REPLACE FUNCTION ${qBatch}(
  p_keys text[], p_slot integer[], p_cost integer[], p_interval double precision[],
  p_burst integer[], p_max_wait double precision[], p_sync text, p_now double precision DEFAULT NULL)
RETURNS double precision[]
LANGUAGE plpgsql VOLATILE
${set}
AS $rate_sync$${batchBody(qTable)}$rate_sync$`;
}
