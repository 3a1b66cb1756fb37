/*
 * Longer than the house's 150 lines: it is one PL/pgSQL function, kept whole so that it can
 * be read side by side with decideLayer.
 */
/**
 * The decision function `<table>_acquire`, installed by `auto_create` (or by the DDL of
 * docs/engines/postgres.md). One call decides every layer of an acquisition all-or-nothing, in
 * one transaction: the engine's single round trip per decision.
 *
 * It is the SQL twin of `decideLayer` (lib/core/algorithms/decide.ts), the reference model:
 * same formulas, same order of floating-point operations, so both engines agree to the last
 * bit given the same clock. Times are epoch milliseconds as double precision.
 *
 * Parameters (one array element per layer, NULL where the layer lacks that part):
 * - p_keys      storage key of the layer (`storageKey(limiter, identifier)`)
 * - p_cost      units the layer takes (>= 1)
 * - p_max_wait  ms the caller accepts to wait for a rate slot ('Infinity' allowed)
 * - p_interval  token bucket: GCRA emission interval T in ms      (NULL: no token bucket)
 * - p_burst     token bucket: burst                               (NULL with p_interval)
 * - p_limit     sliding window: admissions per window             (NULL: no sliding window)
 * - p_window    sliding window: window length in ms               (NULL with p_limit)
 * - p_max       concurrency: max live leases                      (NULL: no concurrency)
 * - p_lease_ms  concurrency: lease lifetime in ms                 (NULL with p_max)
 * - p_lease_id  concurrency: id of the lease to create when admitted (NULL: create none)
 * - p_dry_run   per layer: decide only, report the state as it is; any dry layer makes the
 *               whole call lock nothing and write nothing
 * - p_sync      `synchronous_commit` of this transaction ('off', 'local', 'on', ...)
 * - p_now       tests only: decide at this epoch ms instead of clock_timestamp()
 *
 * Returns a flat double precision[] of DECISION_WIDTH numbers per layer, in order (see
 * DECISION_FIELDS), then one more: the decision's time, `now`, then one per layer: the time of
 * the sliding-window entry it recorded, or NULL (what a refund removes). Both come after the
 * layers, so that a process of a previous version still reads its layers right while a fleet
 * is upgraded. No set-returning
 * function to materialise, so the call stays short; the
 * row locks are held from the first SELECT ... FOR UPDATE to the commit, and that time bounds
 * the throughput on a hot key.
 *
 * Locking: the keys' rows are locked (SELECT ... FOR UPDATE, or created by INSERT ... ON
 * CONFLICT, which locks too) in one total order, bytewise (COLLATE "C"), so composite calls
 * over shared keys cannot deadlock; `now` is read after the locks are held, so it grows in
 * the order decisions commit. A row the call created but did not fill is deleted again.
 * One exception: a single concurrency-only layer whose slots are all held in the last
 * committed state is rejected on that state, unlocked (a rejection writes nothing, and it is
 * what a call decided just before the next commit would answer).
 */
export const ACQUIRE_ARGS =
  'text[], integer[], double precision[], double precision[], integer[], integer[], ' +
  'double precision[], integer[], double precision[], text[], boolean[], text, double precision';

/** What each layer's slice of the returned array holds, in order. */
export const DECISION_FIELDS = [
  'allowed', // 1 or 0
  'waitMs',
  'retryAfterMs',
  'limit',
  'remaining', // may be Infinity
  'resetAt',
  'inFlight', // NULL without concurrency
  'blockedBy', // NULL, 1 = rate, 2 = concurrency
] as const;
export const DECISION_WIDTH = DECISION_FIELDS.length;

/** The SQL index of layer `i`'s field `name` in the returned array (1-based). */
function at(name: (typeof DECISION_FIELDS)[number]): string {
  return `(i - 1) * ${DECISION_WIDTH} + ${DECISION_FIELDS.indexOf(name) + 1}`;
}

/** The body (`prosrc`) of `<table>_acquire` for the table `qTable` (`"schema"."table"`). */
export function acquireBody(qTable: string): string {
  return `
DECLARE
  n          integer := cardinality(p_keys);
  v_dry      boolean := true = ANY (p_dry_run);
  v_commit   boolean := NOT (true = ANY (p_dry_run));
  v_out      float8[] := '{}';
  v_entry    float8[] := '{}';
  v_now      float8;
  v_keys     text[];
  v_key      text;
  v_fresh    text[] := '{}';   -- keys whose row this call had to create
  v_full     boolean := false; -- a concurrency-only layer full as last committed: no lock
  -- With several layers: each layer's state before any write, and what to write if all admit.
  v_rows     ${qTable}[];
  v_next     ${qTable}[];
  r          ${qTable};
  -- One layer's state (s_), what to write for it (w_), and its decision (o_).
  s_tat float8; s_entries float8[]; s_exps float8[];
  w_tat float8; w_entries float8[]; w_expires float8;
  o_allowed boolean; o_consumed boolean; o_in_flight integer; o_remaining float8; o_reset float8;
  -- Per layer, its remaining and reset as it is (two numbers each): what a layer that would
  -- pass reports when another rejects and nothing is written.
  a_remaining float8; a_reset float8; v_as_is float8[] := '{}';
  v_cost integer; v_max_wait float8; v_last float8; v_lease_exp float8;
  c_on boolean; c_ok boolean; c_active integer; c_earliest float8; c_latest float8; c_retry float8;
  r_on boolean; r_ok boolean; r_wait float8; r_retry float8; r_remaining float8; r_rej_remaining float8; r_reset float8;
  t float8; v_tau float8; v_base float8; v_w float8;
  -- Sliding window: live entry times and weights, their total weight, and loop helpers.
  v_live float8[]; v_wts float8[]; v_n float8; v_at float8; v_e float8; v_acc float8;
  v_keep boolean; v_put boolean; v_weighted boolean;
BEGIN
  PERFORM set_config('synchronous_commit', p_sync, true);

  -- 1. Read (and unless dry run, lock or create) each distinct key's row, in bytewise order.
  --    DO UPDATE (not DO NOTHING) so that a row inserted concurrently is locked and returned.
  IF n = 1 THEN
    IF v_dry THEN
      SELECT tat, entries, lease_exp INTO s_tat, s_entries, s_exps FROM ${qTable} WHERE key = p_keys[1];
    ELSE
      -- A concurrency-only layer whose slots are all held, as last committed, is rejected on
      -- that state without its row lock (a rejection writes nothing): the release that frees a
      -- slot, and the admission that takes it, do not queue behind the waiters' re-checks.
      -- Its time is read before it decides, and kept for the decision below.
      IF p_max[1] IS NOT NULL AND p_interval[1] IS NULL AND p_limit[1] IS NULL THEN
        SELECT tat, entries, lease_exp INTO s_tat, s_entries, s_exps FROM ${qTable} WHERE key = p_keys[1];
        v_full := FOUND;
        v_now := coalesce(p_now, (extract(epoch FROM clock_timestamp()) * 1000)::float8);
        v_full := v_full AND (SELECT count(*) FROM unnest(s_exps) AS e WHERE e > v_now) >= p_max[1];
        IF NOT v_full THEN v_now := NULL; END IF;
      END IF;
      IF NOT v_full THEN
        SELECT tat, entries, lease_exp INTO s_tat, s_entries, s_exps FROM ${qTable} WHERE key = p_keys[1] FOR UPDATE;
        IF NOT FOUND THEN
          INSERT INTO ${qTable} AS x (key, expires_at) VALUES (p_keys[1], 0)
            ON CONFLICT (key) DO UPDATE SET expires_at = x.expires_at
            RETURNING x.tat, x.entries, x.lease_exp INTO s_tat, s_entries, s_exps;
          v_fresh := p_keys;
        END IF;
      END IF;
    END IF;
  ELSE
    v_keys := ARRAY(SELECT k FROM unnest(p_keys) AS k GROUP BY k ORDER BY k COLLATE "C");
    FOREACH v_key IN ARRAY v_keys LOOP
      IF v_dry THEN
        SELECT * INTO r FROM ${qTable} WHERE key = v_key;
      ELSE
        SELECT * INTO r FROM ${qTable} WHERE key = v_key FOR UPDATE;
        IF NOT FOUND THEN
          INSERT INTO ${qTable} AS x (key, expires_at) VALUES (v_key, 0)
            ON CONFLICT (key) DO UPDATE SET expires_at = x.expires_at
            RETURNING x.* INTO r;
          v_fresh := v_fresh || v_key;
        END IF;
      END IF;
      FOR i IN 1 .. n LOOP
        IF p_keys[i] = v_key THEN v_rows[i] := r; END IF;
      END LOOP;
    END LOOP;
  END IF;
  IF v_now IS NULL THEN
    v_now := coalesce(p_now, (extract(epoch FROM clock_timestamp()) * 1000)::float8);
  END IF;

  -- 2. Decide every layer on the state read above (decideLayer).
  FOR i IN 1 .. n LOOP
    IF n > 1 THEN
      r := v_rows[i];
      s_tat := r.tat; s_entries := r.entries; s_exps := r.lease_exp;
    END IF;
    v_cost := p_cost[i];
    w_tat := NULL; w_entries := NULL;

    -- Concurrency: leases expiring after now are live.
    c_on := p_max[i] IS NOT NULL;
    c_ok := true; c_active := 0; c_latest := v_now; c_retry := 0;
    IF c_on THEN
      SELECT count(*)::integer, min(e), greatest(v_now, max(e))
        INTO c_active, c_earliest, c_latest
        FROM unnest(s_exps) AS e WHERE e > v_now;
      c_ok := c_active < p_max[i];
      IF NOT c_ok THEN c_retry := coalesce(c_earliest, 'Infinity') - v_now; END IF;
    END IF;
    -- A concurrency rejection must not consume rate: allow no wait at all then.
    v_max_wait := CASE WHEN c_ok THEN p_max_wait[i] ELSE -1 END;

    r_on := true; r_ok := true; r_wait := 0; r_retry := 0;
    IF p_interval[i] IS NOT NULL THEN
      -- Token bucket (gcra): tau = (burst - 1) * T; due at max(tat, now) + (cost - 1) * T - tau.
      t := p_interval[i];
      v_tau := (p_burst[i] - 1) * t;
      v_base := greatest(coalesce(s_tat, v_now), v_now);
      v_w := v_base + (v_cost - 1) * t - v_tau - v_now;
      r_ok := v_w <= 0 OR v_w <= v_max_wait;
      w_tat := CASE WHEN r_ok THEN v_base + v_cost * t ELSE v_base END;
      IF r_ok THEN r_wait := greatest(0, v_w); ELSE r_retry := v_w; END IF;
      -- gcraRemaining(tat) = min(burst, max(0, floor((now + burst * T - max(tat, now)) / T + 1e-9)))
      r_remaining := least(p_burst[i], greatest(0,
        floor((v_now + p_burst[i] * t - greatest(w_tat, v_now)) / t + 1e-9::float8)));
      r_rej_remaining := least(p_burst[i], greatest(0,
        floor((v_now + p_burst[i] * t - greatest(coalesce(s_tat, v_now), v_now)) / t + 1e-9::float8)));
      r_reset := w_tat;
      w_expires := w_tat;
    ELSIF p_limit[i] IS NOT NULL THEN
      -- Sliding window log (slidingWindow). Stored ascending by time, one entry per admission:
      -- its time, followed by minus its weight when the weight (cost) is above 1. Keep the
      -- entries newer than now - window, with their weights; v_n is their total weight.
      -- Without any weight stored (the common case) every entry weighs 1: no loop needed.
      v_weighted := coalesce(0 > ANY (s_entries), false);
      IF v_weighted THEN
        v_live := '{}'; v_wts := '{}'; v_n := 0; v_keep := false;
        FOREACH v_e IN ARRAY s_entries LOOP
          IF v_e < 0 THEN
            IF v_keep THEN v_wts[cardinality(v_wts)] := -v_e; v_n := v_n - v_e - 1; END IF;
          ELSE
            v_keep := v_e > v_now - p_window[i];
            IF v_keep THEN v_live := v_live || v_e; v_wts := v_wts || 1::float8; v_n := v_n + 1; END IF;
          END IF;
        END LOOP;
      ELSE
        v_live := ARRAY(SELECT e FROM unnest(s_entries) WITH ORDINALITY AS u(e, o)
                         WHERE e > v_now - p_window[i] ORDER BY o);
        v_n := cardinality(v_live);
      END IF;
      v_at := v_now;
      IF v_n + v_cost > p_limit[i] THEN
        -- Earliest instant keeping every window within the limit: the first entry by which the
        -- weight reaches n - limit + cost, plus the window (NULL when cost > limit).
        v_at := NULL; v_acc := 0;
        FOR j IN 1 .. cardinality(v_live) LOOP
          v_acc := v_acc + CASE WHEN v_weighted THEN v_wts[j] ELSE 1 END;
          IF v_acc >= v_n - p_limit[i] + v_cost THEN v_at := v_live[j] + p_window[i]; EXIT; END IF;
        END LOOP;
        r_ok := coalesce(v_at - v_now <= v_max_wait, false);
      END IF;
      IF r_ok THEN
        -- The live entries with (v_at, cost) after every entry at or before v_at, encoded.
        IF NOT v_weighted AND v_cost = 1 THEN
          w_entries := ARRAY(SELECT e FROM unnest(v_live || v_at) AS e ORDER BY e);
        ELSE
          w_entries := '{}'; v_put := false;
          FOR j IN 1 .. cardinality(v_live) LOOP
            IF NOT v_put AND v_live[j] > v_at THEN
              w_entries := w_entries || v_at;
              IF v_cost > 1 THEN w_entries := w_entries || (-v_cost)::float8; END IF;
              v_put := true;
            END IF;
            w_entries := w_entries || v_live[j];
            IF v_weighted AND v_wts[j] > 1 THEN w_entries := w_entries || -v_wts[j]; END IF;
          END LOOP;
          IF NOT v_put THEN
            w_entries := w_entries || v_at;
            IF v_cost > 1 THEN w_entries := w_entries || (-v_cost)::float8; END IF;
          END IF;
        END IF;
        r_wait := v_at - v_now;
        r_reset := greatest(v_live[cardinality(v_live)], v_at) + p_window[i];
      ELSE
        w_entries := NULL;
        r_retry := coalesce(v_at - v_now, 'Infinity');
        r_reset := CASE WHEN cardinality(v_live) > 0 THEN v_live[cardinality(v_live)] + p_window[i] ELSE v_now END;
      END IF;
      r_remaining := greatest(0, p_limit[i] - (v_n + v_cost));
      r_rej_remaining := greatest(0, p_limit[i] - v_n);
      w_expires := r_reset;
    ELSE
      r_on := false;
      w_expires := v_now;
    END IF;

    -- Combine (decideLayer): rate is taken only with a concurrency slot. A rejected or dry-run
    -- layer reports the state as it is (a_); an admitted one the state after its write, or,
    -- when another layer rejects, as it is too (patched after the loop).
    o_allowed := c_ok AND r_ok;
    o_consumed := o_allowed AND NOT p_dry_run[i];
    o_in_flight := CASE WHEN c_on THEN c_active + CASE WHEN o_consumed THEN 1 ELSE 0 END END;
    v_lease_exp := v_now + p_lease_ms[i];
    -- The state as it is. unconsumedReset: the untouched state's own reset (last entry as
    -- stored, live or not; the time before it when the last element is a weight).
    a_remaining := greatest(0, least(
      CASE WHEN NOT r_on THEN 'Infinity'::float8 ELSE r_rej_remaining END,
      CASE WHEN c_on THEN (p_max[i] - c_active)::float8 ELSE 'Infinity'::float8 END));
    v_last := s_entries[cardinality(s_entries)];
    IF v_last < 0 THEN v_last := s_entries[cardinality(s_entries) - 1]; END IF;
    a_reset := greatest(
      CASE WHEN p_interval[i] IS NOT NULL THEN greatest(coalesce(s_tat, v_now), v_now)
           WHEN p_limit[i] IS NOT NULL AND v_last > v_now - p_window[i] THEN v_last + p_window[i]
           ELSE v_now END,
      CASE WHEN c_on THEN c_latest ELSE v_now END);
    v_as_is := v_as_is || ARRAY[a_remaining, a_reset];
    -- After this layer's write, when it consumes.
    o_remaining := CASE WHEN NOT o_consumed THEN a_remaining ELSE greatest(0, least(
      CASE WHEN NOT r_on THEN 'Infinity'::float8 ELSE r_remaining END,
      CASE WHEN c_on THEN (p_max[i] - o_in_flight)::float8 ELSE 'Infinity'::float8 END)) END;
    o_reset := CASE WHEN NOT o_consumed THEN a_reset ELSE greatest(
      CASE WHEN r_on THEN r_reset ELSE v_now END,
      CASE WHEN c_on THEN greatest(c_latest, v_lease_exp) ELSE v_now END) END;
    v_out := v_out || ARRAY[
      CASE WHEN o_allowed THEN 1 ELSE 0 END,                                   -- allowed
      CASE WHEN o_allowed THEN r_wait ELSE 0 END,                              -- waitMs
      CASE WHEN NOT c_ok THEN c_retry WHEN NOT r_ok THEN r_retry ELSE 0 END,   -- retryAfterMs
      coalesce(p_burst[i], p_limit[i], p_max[i], 0),                           -- limit
      o_remaining,                                                             -- remaining
      o_reset,                                                                 -- resetAt
      o_in_flight,                                                             -- inFlight
      CASE WHEN NOT c_ok THEN 2 WHEN NOT r_ok THEN 1 END                       -- blockedBy
    ]::float8[];
    -- Sliding window: the time of the entry this layer records (for a refund), else NULL.
    v_entry := v_entry || CASE WHEN o_consumed AND p_interval[i] IS NULL AND p_limit[i] IS NOT NULL
                               THEN v_at END;

    -- The row holds nothing live after expires_at; the periodic cleanup deletes it then.
    IF c_on THEN w_expires := greatest(w_expires, c_latest, v_lease_exp); END IF;
    w_expires := greatest(w_expires, v_now);
    IF n > 1 THEN
      r.tat := w_tat; r.entries := w_entries; r.expires_at := w_expires;
      v_next[i] := r;
    END IF;
    v_commit := v_commit AND o_allowed;
  END LOOP;

  -- Nothing is written when a layer rejects: the layers that would have passed report the
  -- state as it is.
  IF NOT v_commit AND NOT v_dry THEN
    FOR i IN 1 .. n LOOP
      IF v_out[${at('allowed')}] = 1 THEN
        v_out[${at('remaining')}] := v_as_is[2 * i - 1];
        v_out[${at('resetAt')}] := v_as_is[2 * i];
        v_out[${at('inFlight')}] := v_out[${at('inFlight')}] - 1;
      END IF;
    END LOOP;
  END IF;

  -- 3. All layers admitted: write each, in layer order (a new lease replaces expired ones).
  IF v_commit THEN
    FOR i IN 1 .. n LOOP
      IF n > 1 THEN
        r := v_next[i];
        w_tat := r.tat; w_entries := r.entries; w_expires := r.expires_at;
      END IF;
      IF p_max[i] IS NOT NULL AND p_lease_id[i] IS NOT NULL THEN
        UPDATE ${qTable} AS x SET
          tat = CASE WHEN p_interval[i] IS NULL THEN x.tat ELSE w_tat END,
          entries = CASE WHEN p_limit[i] IS NULL THEN x.entries ELSE w_entries END,
          (lease_ids, lease_exp) = (
            SELECT coalesce(array_agg(l.id ORDER BY l.o), '{}') || p_lease_id[i],
                   coalesce(array_agg(l.e ORDER BY l.o), '{}') || (v_now + p_lease_ms[i])
              FROM unnest(x.lease_ids, x.lease_exp) WITH ORDINALITY AS l(id, e, o)
             WHERE l.e > v_now AND l.id <> p_lease_id[i]),
          expires_at = w_expires
        WHERE x.key = p_keys[i];
      ELSE
        UPDATE ${qTable} AS x SET
          tat = CASE WHEN p_interval[i] IS NULL THEN x.tat ELSE w_tat END,
          entries = CASE WHEN p_limit[i] IS NULL THEN x.entries ELSE w_entries END,
          expires_at = w_expires
        WHERE x.key = p_keys[i];
      END IF;
    END LOOP;
  ELSIF cardinality(v_fresh) > 0 THEN
    -- Rejected: nothing is consumed, and rows created only to be locked go away again.
    DELETE FROM ${qTable} WHERE key = ANY (v_fresh) AND expires_at <= v_now;
  END IF;
  IF NOT v_commit THEN v_entry := array_fill(NULL::float8, ARRAY[n]); END IF;
  RETURN v_out || v_now || v_entry;
END
`;
}

/** `CREATE FUNCTION` statement of `<table>_acquire` (`OR REPLACE` unless the return type changed). */
export function acquireFunction(qTable: string, qAcquire: string): string {
  return `CREATE OR REPLACE FUNCTION ${qAcquire}(
  p_keys text[], p_cost integer[], p_max_wait double precision[],
  p_interval double precision[], p_burst integer[],
  p_limit integer[], p_window double precision[],
  p_max integer[], p_lease_ms double precision[], p_lease_id text[],
  p_dry_run boolean[], p_sync text, p_now double precision DEFAULT NULL)
RETURNS double precision[]
LANGUAGE plpgsql VOLATILE
AS $rate_sync$${acquireBody(qTable)}$rate_sync$`;
}
