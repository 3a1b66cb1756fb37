import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../errors';

/** PostgreSQL truncates identifiers beyond 63 bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_LENGTH = 63;

/**
 * Longest accepted table name: the engine derives function names `<table>_acquire`,
 * `<table>_batch`, `<table>_release` and `<table>_renew` from it, and they must fit in 63
 * bytes too (`_acquire` is the longest suffix).
 */
export const MAX_TABLE_NAME_LENGTH = MAX_IDENTIFIER_LENGTH - '_acquire'.length;

/** A plain SQL identifier: letters, digits and underscores, not starting with a digit. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks `value` as a schema or table name and returns it. Only plain identifiers are accepted
 * (`x; drop table y`, quotes, spaces and over-long names are rejected), and every use quotes
 * them anyway, so a name can never become SQL.
 *
 * @param what the option's name, for the message (`tableName`, `schemaName`).
 * @throws InvalidArgumentError naming the option.
 */
export function validateIdentifier(
  what: string,
  value: unknown,
  maxLength = MAX_IDENTIFIER_LENGTH,
): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new InvalidArgumentError(
      what,
      `expected an SQL identifier (letters, digits and _, not starting with a digit), got ${JSON.stringify(value)}`,
    );
  }
  if (value.length > maxLength) {
    throw new InvalidArgumentError(
      what,
      `expected at most ${maxLength} characters, got ${value.length}`,
    );
  }
  return value;
}

/** Quotes an identifier for SQL text (`"name"`, inner quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Every name the engine derives from a store's schema and table, quoted where SQL needs it. */
export interface PostgresNames {
  readonly schema: string;
  readonly table: string;
  /** `"schema"` */
  readonly qSchema: string;
  /** `"schema"."table"` */
  readonly qTable: string;
  /** `"schema"."table_acquire"`, `..._batch`, `..._release`, `..._renew`. */
  readonly qAcquire: string;
  readonly qBatch: string;
  readonly qRelease: string;
  readonly qRenew: string;
  /** `"schema"."table_block"`: decisions with `block_seconds`. */
  readonly qBlock: string;
  /** LISTEN/NOTIFY channel of the store's releases: `rate_sync_` + 16 hex of sha256(schema.table). */
  readonly channel: string;
  /** Two int4 keys for `pg_advisory_xact_lock` serialising this table's DDL across processes. */
  readonly ddlLock: readonly [number, number];
  /** Prefix of the prepared statement names, unique per schema.table. */
  readonly statementPrefix: string;
}

/** Default table name, the Python library's. */
export const DEFAULT_TABLE_NAME = 'rate_limiter_state';
/** Default schema. */
export const DEFAULT_SCHEMA_NAME = 'public';

/**
 * Validates the schema and table names and derives the rest.
 * @throws InvalidArgumentError when either name is not a plain identifier or too long.
 */
export function postgresNames(
  schemaName = DEFAULT_SCHEMA_NAME,
  tableName = DEFAULT_TABLE_NAME,
): PostgresNames {
  const schema = validateIdentifier('schemaName', schemaName);
  const table = validateIdentifier('tableName', tableName, MAX_TABLE_NAME_LENGTH);
  const digest = createHash('sha256').update(`${schema}.${table}`).digest();
  const qSchema = quoteIdent(schema);
  const fn = (suffix: string): string => `${qSchema}.${quoteIdent(`${table}_${suffix}`)}`;
  return {
    schema,
    table,
    qSchema,
    qTable: `${qSchema}.${quoteIdent(table)}`,
    qAcquire: fn('acquire'),
    qBatch: fn('batch'),
    qRelease: fn('release'),
    qRenew: fn('renew'),
    qBlock: fn('block'),
    channel: `rate_sync_${digest.subarray(0, 8).toString('hex')}`,
    ddlLock: [digest.readInt32BE(8), digest.readInt32BE(12)],
    statementPrefix: `rate_sync_${digest.subarray(0, 6).toString('hex')}`,
  };
}
