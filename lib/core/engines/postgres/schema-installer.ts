import { StoreSetupError } from '../../errors';
import { EXPECTED_COLUMNS, ddlScript, functionDefs, tableDdl, type FunctionDef } from './ddl';
import type { PostgresNames } from './identifiers';
import type { TimedClient } from './query-deadline';

/** What connect() needs to know to check or create the schema objects. */
export interface SchemaOptions {
  readonly storeId: string;
  readonly names: PostgresNames;
  readonly autoCreate: boolean;
  readonly unlogged: boolean;
  /** Statement timeout of the DDL transaction, in ms (waiting for another process's DDL included). */
  readonly ddlTimeoutMs: number;
  readonly warn: (message: string) => void;
}

/** What exists in the database, in one catalog query. */
interface Inspection {
  readonly schemaExists: boolean;
  readonly tableExists: boolean;
  /** relpersistence: 'p' permanent, 'u' unlogged. */
  readonly persistence: string | null;
  readonly columns: string[];
  /** pg_proc.prosrc of each function of {@link functionDefs}, null when missing. */
  readonly bodies: (string | null)[];
  /** pg_proc.proconfig (`name=value` settings) of each function, null when none or missing. */
  readonly settings: (string[] | null)[];
}

/**
 * Checks that the table and its functions exist with the layout, bodies and SET clauses this
 * version expects; with `autoCreate`, creates or replaces what is missing or outdated first.
 * The DDL runs in one transaction holding a transaction-scoped advisory lock, so processes
 * starting at once do it one after the other (CREATE ... IF NOT EXISTS alone can still collide
 * on pg_type), and each re-inspects after getting the lock. Nothing is created when everything
 * is already in place, so a role with DML rights only can run with the default `auto_create`.
 */
export async function ensureSchema(
  /** The connection, with the decisions' time limit: for the first, read-only inspection. */
  client: TimedClient,
  /** The same connection with the DDL's time limit (`ddlTimeoutMs` plus a grace). */
  ddlClient: TimedClient,
  o: SchemaOptions,
): Promise<void> {
  const defs = functionDefs(o.names);
  let state = await inspect(client, o.names, defs);
  checkColumns(state, o);
  const missing = problems(state, defs, o.names);
  if (missing.length === 0) return warnPersistence(state, o);
  if (!o.autoCreate) {
    throw new StoreSetupError(
      o.storeId,
      `Store '${o.storeId}': ${missing.join('; ')}, and auto_create is false. Run the DDL of ` +
        `docs/engines/postgres.md (for schema ${o.names.qSchema} and table ${o.names.qTable}) ` +
        `as a role that may create them, or set auto_create = true. The DDL:\n\n` +
        ddlScript(o.names, o.unlogged),
    );
  }
  await ddlClient.query('BEGIN');
  try {
    await ddlClient.query(
      `SET LOCAL statement_timeout = ${Math.max(1000, Math.round(o.ddlTimeoutMs))}`,
    );
    await ddlClient.query('SELECT pg_advisory_xact_lock($1, $2)', [...o.names.ddlLock]);
    state = await inspect(ddlClient, o.names, defs);
    checkColumns(state, o);
    if (!state.schemaExists)
      await ddlClient.query(`CREATE SCHEMA IF NOT EXISTS ${o.names.qSchema}`);
    if (!state.tableExists) await ddlClient.query(tableDdl(o.names, o.unlogged));
    for (const [i, def] of defs.entries()) {
      if (functionProblem(state, i, def) === null) continue;
      // Another version: drop it first, as CREATE OR REPLACE cannot change a return type.
      if (state.bodies[i] !== null) await ddlClient.query(`DROP FUNCTION ${def.signature}`);
      await ddlClient.query(def.create);
    }
    await ddlClient.query('COMMIT');
  } catch (err) {
    await ddlClient.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  warnPersistence(state, o);
}

async function inspect(
  client: TimedClient,
  names: PostgresNames,
  defs: FunctionDef[],
): Promise<Inspection> {
  // $1 quoted schema, $2 quoted schema.table, $3 function signatures.
  const { rows } = await client.query(
    `SELECT to_regnamespace($1) IS NOT NULL AS schema_exists,
            c.oid IS NOT NULL AS table_exists,
            c.relpersistence::text AS persistence,
            ARRAY(SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                    FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   ORDER BY a.attnum) AS columns,
            ARRAY(SELECT p.prosrc
                    FROM unnest($3::text[]) WITH ORDINALITY AS s(sig, o)
                    LEFT JOIN pg_proc p ON p.oid = to_regprocedure(s.sig)
                   ORDER BY s.o) AS bodies,
            (SELECT json_agg(p.proconfig ORDER BY s.o)
               FROM unnest($3::text[]) WITH ORDINALITY AS s(sig, o)
               LEFT JOIN pg_proc p ON p.oid = to_regprocedure(s.sig)) AS settings
       FROM (SELECT to_regclass($2) AS oid) AS r
       LEFT JOIN pg_class c ON c.oid = r.oid`,
    [names.qSchema, names.qTable, defs.map((d) => d.signature)],
  );
  const row = rows[0];
  return {
    schemaExists: row.schema_exists,
    tableExists: row.table_exists,
    persistence: row.persistence,
    columns: row.columns,
    bodies: row.bodies,
    settings: row.settings,
  };
}

function problems(state: Inspection, defs: FunctionDef[], names: PostgresNames): string[] {
  const out: string[] = [];
  if (!state.schemaExists) out.push(`schema ${names.qSchema} does not exist`);
  if (!state.tableExists) out.push(`table ${names.qTable} does not exist`);
  defs.forEach((d, i) => {
    const problem = functionProblem(state, i, d);
    if (problem !== null) out.push(problem);
  });
  return out;
}

/**
 * Why function `i` as installed is not this version's (null: it is): missing, another body, or
 * other SET clauses (compared sorted, so the order of ALTER FUNCTION ... SET does not matter).
 */
function functionProblem(state: Inspection, i: number, def: FunctionDef): string | null {
  const body = state.bodies[i];
  if (body === null) return `function ${def.signature} does not exist`;
  if (body !== def.body) return `function ${def.signature} is from another version`;
  const settings = [...(state.settings[i] ?? [])].sort();
  if (settings.join(', ') === def.settings.join(', ')) return null;
  const list = (s: readonly string[]) => (s.length > 0 ? s.join(', ') : 'none');
  return (
    `function ${def.signature} has other SET settings than this version's ` +
    `(installed: ${list(settings)}; expected: ${list(def.settings)})`
  );
}

function checkColumns(state: Inspection, o: SchemaOptions): void {
  if (!state.tableExists) return;
  if (state.columns.join(', ') === EXPECTED_COLUMNS.join(', ')) return;
  throw new StoreSetupError(
    o.storeId,
    `Store '${o.storeId}': table ${o.names.qTable} exists but is not a rate-sync state table ` +
      `(columns: ${state.columns.join(', ') || 'none'}; expected: ${EXPECTED_COLUMNS.join(', ')}). ` +
      `The Python rate-sync library uses the same default table name with another layout: ` +
      `set table_name to another name, or drop that table.`,
  );
}

function warnPersistence(state: Inspection, o: SchemaOptions): void {
  const isUnlogged = state.persistence === 'u';
  if (state.tableExists && isUnlogged !== o.unlogged) {
    o.warn(
      `Store '${o.storeId}': table ${o.names.qTable} is ${isUnlogged ? 'UNLOGGED' : 'logged'} but ` +
        `unlogged = ${o.unlogged}; the existing table is used as it is ` +
        `(ALTER TABLE ... SET ${o.unlogged ? 'UNLOGGED' : 'LOGGED'} changes it, rewriting the table).`,
    );
  }
}
