import type { PostgresNames } from './identifiers';

/** Current time as epoch ms, from the server's clock (`clock_timestamp()`, not `now()`). */
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::float8';

/** GCRA on the conflicting row `x`, at `excluded.decided_at`: base = max(tat, now). */
const BASE = 'greatest(coalesce(x.tat, excluded.decided_at), excluded.decided_at)';
/** wait = base + (cost - 1) * T - (burst - 1) * T - now; admitted when <= 0 or <= max wait. */
const WAIT = `(${BASE} + ($2::integer - 1) * $3::float8 - ($4::integer - 1) * $3::float8 - excluded.decided_at)`;
const ADMIT = `(${WAIT} <= 0 OR ${WAIT} <= $5::float8)`;

/** The statements the engine sends, for one schema.table. Each is one round trip. */
export interface Statements {
  /** Params: the 13 arguments of `<table>_acquire` (see acquire.sql.ts). */
  readonly acquire: string;
  /** Params: the 14 arguments of `<table>_block` (see block.sql.ts). */
  readonly acquireBlocking: string;
  /**
   * The token bucket alone (one layer, no concurrency, not a dry run, cost <= burst) in one
   * upsert: the row lock is held only for this statement's update and its commit, which is
   * what bounds throughput on a hot key. GCRA as in gcra.ts; the caller recomputes the
   * decision's fields with the reference model from the returned (prev_tat, decided_at), so
   * both always agree. A rejection rewrites the row with tat unchanged (nothing consumed).
   * `now` is read before the row lock is granted; for GCRA an earlier `now` can only delay an
   * admission, never allow an extra one.
   * $1 key, $2 cost, $3 emission interval T (ms), $4 burst, $5 max wait (ms),
   * $6 tests only: epoch ms instead of clock_timestamp(), $7 `synchronous_commit` of this
   * statement's transaction (set_config(..., true) inside the statement, before its commit).
   */
  readonly acquireTokenBucket: string;
  /**
   * Several such token buckets at once, in arrival order: params are the 8 arguments of
   * `<table>_batch` (see batch.sql.ts).
   */
  readonly batch: string;
  /** Params: the 5 arguments of `<table>_release` (see lease.sql.ts). */
  readonly release: string;
  /** Params: the 5 arguments of `<table>_renew` (see lease.sql.ts). */
  readonly renew: string;
  /**
   * Gives back what one admitted layer took (`gcraRefund` and `windowRefund` of
   * algorithms/refund.ts), in one statement on the key's row (locked by the UPDATE, as a
   * decision locks it). Token bucket: tat = max(tat - cost * T, now). Window: removes the first
   * entry stored at exactly `at` whose weight is `cost` (an entry is its time, followed by
   * minus its weight when that is above 1). A missing row or a NULL part changes nothing.
   * $1 key, $2 cost, $3 GCRA emission interval T in ms (NULL: no token bucket), $4 the window
   * entry's time (NULL: no sliding window), $5 tests only: epoch ms instead of
   * clock_timestamp(), $6 `synchronous_commit` of this statement's transaction.
   */
  readonly refund: string;
  /**
   * Deletes one key's row (and its `block_seconds` row, `<key> b`); notifies waiters when it
   * held leases.
   * $1 storage key, $2 channel.
   */
  readonly resetKey: string;
  /**
   * Deletes every key of a limiter: the key `$1` (its global bucket) and `$1:<identifier>`,
   * found by a range scan on the primary key (`:` < `;` bytewise), locked in key order like
   * decisions lock them so a concurrent composite decision cannot deadlock with it; one
   * notification `*<limiter>` wakes the waiters of all of them.
   * $1 escaped limiter id, $2 channel.
   */
  readonly resetLimiter: string;
  /**
   * Deletes up to $1 rows whose state has all expired, skipping rows a decision holds (SKIP
   * LOCKED: the cleanup never waits for, nor blocks on, a decision's lock for long). A row
   * found expired is dead whatever its policy: tat, window entries and leases all lie in the
   * past. $1 batch size.
   */
  readonly cleanup: string;
}

export function statements(n: PostgresNames): Statements {
  return {
    acquire:
      `SELECT ${n.qAcquire}($1::text[], $2::integer[], $3::float8[], $4::float8[], $5::integer[], ` +
      `$6::integer[], $7::float8[], $8::integer[], $9::float8[], $10::text[], $11::boolean[], $12::text, $13::float8) AS d`,
    acquireBlocking:
      `SELECT ${n.qBlock}($1::text[], $2::integer[], $3::float8[], $4::float8[], $5::integer[], ` +
      `$6::integer[], $7::float8[], $8::integer[], $9::float8[], $10::text[], $11::boolean[], $12::text, $13::float8, $14::float8[]) AS d`,
    acquireTokenBucket: `INSERT INTO ${n.qTable} AS x (key, tat, expires_at, prev_tat, decided_at)
SELECT $1::text, c.now + $2::integer * $3::float8, c.now + $2::integer * $3::float8, NULL, c.now
  FROM (SELECT coalesce($6::float8, ${NOW_MS}) AS now, set_config('synchronous_commit', $7::text, true)) AS c
ON CONFLICT (key) DO UPDATE SET
  tat = CASE WHEN ${ADMIT} THEN ${BASE} + $2::integer * $3::float8 ELSE x.tat END,
  expires_at = CASE WHEN ${ADMIT} THEN ${BASE} + $2::integer * $3::float8 ELSE x.expires_at END,
  prev_tat = x.tat,
  decided_at = excluded.decided_at
RETURNING prev_tat, decided_at`,
    batch:
      `SELECT ${n.qBatch}($1::text[], $2::integer[], $3::integer[], $4::float8[], $5::integer[], ` +
      `$6::float8[], $7::text, $8::float8) AS d`,
    release: `SELECT ${n.qRelease}($1::text, $2::text, $3::text, $4::text, $5::float8) AS released`,
    renew: `SELECT ${n.qRenew}($1::text, $2::text[], $3::float8, $4::text, $5::float8) AS renewed`,
    refund: `UPDATE ${n.qTable} AS x SET
  tat = CASE WHEN $3::float8 IS NULL OR x.tat IS NULL THEN x.tat
             ELSE greatest(x.tat - $2::integer * $3::float8, c.now) END,
  entries = CASE WHEN $4::float8 IS NULL THEN x.entries ELSE (
    SELECT CASE WHEN q.p IS NULL THEN x.entries
                ELSE x.entries[1:q.p - 1] ||
                     x.entries[q.p + CASE WHEN $2::integer > 1 THEN 2 ELSE 1 END:cardinality(x.entries)] END
      FROM (SELECT min(u.o) AS p FROM unnest(x.entries) WITH ORDINALITY AS u(e, o)
             WHERE u.e = $4::float8
               AND CASE WHEN $2::integer > 1 THEN x.entries[u.o + 1] = -$2::integer
                        ELSE coalesce(x.entries[u.o + 1] >= 0, true) END) AS q) END
  FROM (SELECT coalesce($5::float8, ${NOW_MS}) AS now, set_config('synchronous_commit', $6::text, true)) AS c
 WHERE x.key = $1::text`,
    resetKey: `WITH d AS (DELETE FROM ${n.qTable} WHERE key = $1::text OR key = $1::text || ' b' RETURNING cardinality(lease_ids) AS leases)
SELECT pg_notify($2::text, $1::text) FROM d WHERE d.leases > 0`,
    resetLimiter: `WITH d AS (
  DELETE FROM ${n.qTable} WHERE key IN (
    SELECT key FROM ${n.qTable}
     WHERE key = $1::text OR key = $1::text || ' b' OR (key > ($1::text || ':') AND key < ($1::text || ';'))
     ORDER BY key FOR UPDATE)
  RETURNING cardinality(lease_ids) AS leases)
SELECT pg_notify($2::text, '*' || $1::text) FROM (SELECT 1 FROM d WHERE d.leases > 0 LIMIT 1) AS any_leases`,
    cleanup: `DELETE FROM ${n.qTable} WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM ${n.qTable} WHERE expires_at <= ${NOW_MS}
   LIMIT $1::integer FOR UPDATE SKIP LOCKED))`,
  };
}
