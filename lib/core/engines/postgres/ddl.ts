import { ACQUIRE_ARGS, acquireBody, acquireFunction } from './acquire.sql';
import { BATCH_ARGS, batchBody, batchFunction } from './batch.sql';
import type { PostgresNames } from './identifiers';
import { RELEASE_ARGS, RENEW_ARGS, leaseFunctions, releaseBody, renewBody } from './lease.sql';

/**
 * The state table: one row per key, whatever its policy. A row is rewritten in place by each
 * decision; no secondary index, so those updates stay HOT (heap-only) and cheap. The periodic
 * cleanup finds expired rows by a bounded scan instead. `prev_tat` and `decided_at` exist for
 * the token bucket's one-statement path (statements.ts), whose RETURNING cannot otherwise see
 * the state it replaced; `<table>_batch` keeps them as that path would.
 */
export function tableDdl(names: PostgresNames, unlogged: boolean): string {
  return `CREATE ${unlogged ? 'UNLOGGED ' : ''}TABLE IF NOT EXISTS ${names.qTable} (
  key        text COLLATE "C" PRIMARY KEY,              -- storageKey(limiter, identifier)
  tat        double precision,                          -- token bucket: GCRA theoretical arrival time, epoch ms
  entries    double precision[] NOT NULL DEFAULT '{}',  -- sliding window: admission times (some future-dated), ascending, epoch ms
  lease_ids  text[] NOT NULL DEFAULT '{}',              -- concurrency: lease ids ...
  lease_exp  double precision[] NOT NULL DEFAULT '{}',  -- ... and their expiries, epoch ms
  expires_at double precision NOT NULL,                 -- epoch ms from which nothing in the row is live
  prev_tat   double precision,                          -- token bucket: tat before the last decision ...
  decided_at double precision                           -- ... and its time, epoch ms (what the one-statement path returns)
)`;
}

/** The table's columns as `name type`, as the schema check expects them (format_type). */
export const EXPECTED_COLUMNS: readonly string[] = [
  'key text',
  'tat double precision',
  'entries double precision[]',
  'lease_ids text[]',
  'lease_exp double precision[]',
  'expires_at double precision',
  'prev_tat double precision',
  'decided_at double precision',
];

/** One function the engine calls, with what identifies and checks it. */
export interface FunctionDef {
  /** For messages: `acquire`, `batch`, `release`, `renew`. */
  readonly role: string;
  /** `"schema"."fn"(arg types)`, for to_regprocedure. */
  readonly signature: string;
  /** The body the installed function must have (pg_proc.prosrc). */
  readonly body: string;
  /**
   * The `SET` clauses the installed function must have, as pg_proc.proconfig holds them
   * (`name=value`), sorted; empty for none. Read from {@link create} by {@link functionSettings}.
   */
  readonly settings: readonly string[];
  /** The CREATE OR REPLACE FUNCTION statement. */
  readonly create: string;
}

/** The four functions of a table, in creation order. */
export function functionDefs(names: PostgresNames): FunctionDef[] {
  const [release, renew] = leaseFunctions(names.qTable, names.qRelease, names.qRenew);
  const defs: Omit<FunctionDef, 'settings'>[] = [
    {
      role: 'acquire',
      signature: `${names.qAcquire}(${ACQUIRE_ARGS})`,
      body: acquireBody(names.qTable),
      create: acquireFunction(names.qTable, names.qAcquire),
    },
    {
      role: 'batch',
      signature: `${names.qBatch}(${BATCH_ARGS})`,
      body: batchBody(names.qTable),
      create: batchFunction(names.qTable, names.qBatch),
    },
    {
      role: 'release',
      signature: `${names.qRelease}(${RELEASE_ARGS})`,
      body: releaseBody(names.qTable),
      create: release,
    },
    {
      role: 'renew',
      signature: `${names.qRenew}(${RENEW_ARGS})`,
      body: renewBody(names.qTable),
      create: renew,
    },
  ];
  return defs.map((d) => ({ ...d, settings: functionSettings(d.create) }));
}

/**
 * The `SET name = value` clauses of a CREATE FUNCTION statement (those before its body), as
 * pg_proc.proconfig stores them: `name=value`, sorted, names and unquoted values lowercased as
 * PostgreSQL folds them. Read from the statement so that each setting is written once, in the
 * DDL. Only unquoted one-word values are understood, which is all the DDL uses; anything else
 * throws, so that a new kind of clause cannot be skipped by the schema check unnoticed.
 */
export function functionSettings(create: string): string[] {
  const bodyAt = create.indexOf('$rate_sync$');
  if (bodyAt < 0) throw new Error('functionSettings: no $rate_sync$ body in the statement');
  const [, ...clauses] = create.slice(0, bodyAt).split(/\bSET\b/i);
  return clauses
    .map((clause) => {
      const m = /^(\w+)\s*(?:=|\bTO\b)\s*(\w+)(?:\s+AS)?$/i.exec(clause.trim());
      if (!m) throw new Error(`functionSettings: cannot read SET${clause}`);
      return `${m[1].toLowerCase()}=${m[2].toLowerCase()}`;
    })
    .sort();
}

/**
 * Every statement `auto_create` runs, in order, as one script (the text of
 * docs/engines/postgres.md for the default names).
 */
export function ddlScript(names: PostgresNames, unlogged: boolean): string {
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${names.qSchema}`,
    tableDdl(names, unlogged),
    ...functionDefs(names).map((f) => f.create),
  ];
  return statements.map((s) => `${s};\n`).join('\n');
}
