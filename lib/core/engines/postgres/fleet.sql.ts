import type { PostgresNames } from './identifiers';

/**
 * The fleet's heartbeats (degraded mode, docs/engines/postgres.md): one row per process
 * instance in the state table, keyed `' fleet <instance id>'`. A storage key never contains a
 * space, so these rows never meet a limiter's; their `expires_at` is the heartbeat's expiry,
 * and the periodic cleanup deletes them like any expired row.
 */
export const FLEET_KEY_PREFIX = ' fleet ';

/** The statements of the heartbeat, for one schema.table. */
export interface FleetStatements {
  /**
   * Writes this instance's row and counts the live ones, itself included (the count runs on
   * the snapshot before the upsert, hence `+ 1` and the exclusion of its own key). A range scan
   * on the primary key. $1 the row's key, $2 lifetime in ms, $3 tests only: epoch ms.
   */
  readonly heartbeat: string;
  /** Deletes this instance's row. $1 the row's key. */
  readonly leave: string;
}

export function fleetStatements(n: PostgresNames): FleetStatements {
  const now = `coalesce($3::float8, (extract(epoch FROM clock_timestamp()) * 1000)::float8)`;
  return {
    heartbeat: `WITH c AS (SELECT ${now} AS now),
beat AS (
  INSERT INTO ${n.qTable} (key, expires_at) SELECT $1::text, c.now + $2::float8 FROM c
  ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at)
SELECT count(*)::integer + 1 AS alive FROM ${n.qTable}, c
 WHERE key > ' fleet ' AND key < ' fleet!' AND key <> $1::text AND expires_at > c.now`,
    leave: `DELETE FROM ${n.qTable} WHERE key = $1::text`,
  };
}
