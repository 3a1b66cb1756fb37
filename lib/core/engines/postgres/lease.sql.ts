/**
 * The lease functions `<table>_release` and `<table>_renew`, installed next to
 * `<table>_acquire`. Each is one transaction holding one row lock; each sets its own
 * `synchronous_commit`, which works behind transaction-pooling proxies too (a session-level
 * SET would not).
 */

export const RELEASE_ARGS = 'text, text, text, text, double precision';

/**
 * `<table>_release(p_key, p_lease_id, p_channel, p_sync, p_now)`: deletes lease
 * `p_lease_id` of key `p_key` (and any expired lease beside it). Returns whether the lease was
 * there (releasing twice is a no-op).
 *
 * - p_key      storage key
 * - p_lease_id the lease to delete
 * - p_channel  the store's LISTEN/NOTIFY channel; the payload is the key. Every release of a
 *              live lease notifies (a waiter queue wakes one waiter per notification, so
 *              skipping any would strand a waiter); releasing an already expired lease does
 *              not (its slot was freed by the expiry, and waiters re-check then).
 * - p_sync     `synchronous_commit` of this transaction
 * - p_now      tests only: epoch ms to use instead of clock_timestamp()
 */
export function releaseBody(qTable: string): string {
  return `
DECLARE
  v_now      float8;
  v_ids      text[];
  v_exps     float8[];
  v_was_live boolean;
BEGIN
  PERFORM set_config('synchronous_commit', p_sync, true);
  SELECT lease_ids, lease_exp INTO v_ids, v_exps FROM ${qTable} WHERE key = p_key FOR UPDATE;
  IF NOT FOUND OR NOT coalesce(p_lease_id = ANY (v_ids), false) THEN
    RETURN false;
  END IF;
  v_now := coalesce(p_now, (extract(epoch FROM clock_timestamp()) * 1000)::float8);
  SELECT bool_or(l.id = p_lease_id AND l.e > v_now) INTO v_was_live
    FROM unnest(v_ids, v_exps) AS l(id, e);
  UPDATE ${qTable} AS x SET (lease_ids, lease_exp) = (
      SELECT coalesce(array_agg(l.id ORDER BY l.o), '{}'), coalesce(array_agg(l.e ORDER BY l.o), '{}')
        FROM unnest(v_ids, v_exps) WITH ORDINALITY AS l(id, e, o)
       WHERE l.e > v_now AND l.id <> p_lease_id)
    WHERE x.key = p_key;
  IF v_was_live THEN
    PERFORM pg_notify(p_channel, p_key);
  END IF;
  RETURN true;
END
`;
}

export const RENEW_ARGS = 'text, text[], double precision, text, double precision';

/**
 * `<table>_renew(p_key, p_lease_ids, p_lease_ms, p_sync, p_now)`: extends the live leases among
 * `p_lease_ids` to now + p_lease_ms and drops expired ones. An expired lease is not brought
 * back: its slot may already be someone else's. Returns the number of rows updated (0 or 1).
 *
 * - p_key       storage key
 * - p_lease_ids the leases the caller still holds
 * - p_lease_ms  the policy's lease lifetime in ms
 * - p_sync      `synchronous_commit` of this transaction
 * - p_now       tests only: epoch ms to use instead of clock_timestamp()
 */
export function renewBody(qTable: string): string {
  return `
DECLARE
  v_now float8 := coalesce(p_now, (extract(epoch FROM clock_timestamp()) * 1000)::float8);
  v_n   integer;
BEGIN
  PERFORM set_config('synchronous_commit', p_sync, true);
  UPDATE ${qTable} AS x SET
      (lease_ids, lease_exp) = (
        SELECT coalesce(array_agg(l.id ORDER BY l.o), '{}'),
               coalesce(array_agg(CASE WHEN l.id = ANY (p_lease_ids) THEN v_now + p_lease_ms ELSE l.e END
                                  ORDER BY l.o), '{}')
          FROM unnest(x.lease_ids, x.lease_exp) WITH ORDINALITY AS l(id, e, o)
         WHERE l.e > v_now),
      expires_at = greatest(x.expires_at, v_now + p_lease_ms)
    WHERE x.key = p_key AND x.lease_ids && p_lease_ids;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
`;
}

/** `CREATE OR REPLACE FUNCTION` statements of `<table>_release` and `<table>_renew`. */
export function leaseFunctions(qTable: string, qRelease: string, qRenew: string): string[] {
  return [
    `CREATE OR REPLACE FUNCTION ${qRelease}(
  p_key text, p_lease_id text, p_channel text, p_sync text,
  p_now double precision DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $rate_sync$${releaseBody(qTable)}$rate_sync$`,
    `CREATE OR REPLACE FUNCTION ${qRenew}(
  p_key text, p_lease_ids text[], p_lease_ms double precision, p_sync text,
  p_now double precision DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $rate_sync$${renewBody(qTable)}$rate_sync$`,
  ];
}
