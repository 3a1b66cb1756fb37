import { ACQUIRE_ARGS, acquireBody, acquireFunction } from './acquire.sql';
import { BATCH_ARGS, BATCH_SETTINGS, batchBody, batchFunction } from './batch.sql';
import type { PostgresNames } from './identifiers';
import { BLOCK_ARGS, blockBody, blockFunction } from './block.sql';
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
  entries    double precision[] NOT NULL DEFAULT '{}',  -- sliding window: admissions ascending by time (some future-dated), epoch ms, each followed by -cost when its cost is above 1
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
   * (`name=value`), sorted; empty for none.
   */
  readonly settings: readonly string[];
  /** The CREATE OR REPLACE FUNCTION statement. */
  readonly create: string;
}

/** The functions of a table, in creation order. */
export function functionDefs(names: PostgresNames): FunctionDef[] {
  const [release, renew] = leaseFunctions(names.qTable, names.qRelease, names.qRenew);
  return [
    {
      role: 'acquire',
      signature: `${names.qAcquire}(${ACQUIRE_ARGS})`,
      body: acquireBody(names.qTable),
      settings: [],
      create: acquireFunction(names.qTable, names.qAcquire),
    },
    {
      role: 'batch',
      signature: `${names.qBatch}(${BATCH_ARGS})`,
      body: batchBody(names.qTable),
      settings: [...BATCH_SETTINGS].sort(),
      create: batchFunction(names.qTable, names.qBatch),
    },
    {
      role: 'release',
      signature: `${names.qRelease}(${RELEASE_ARGS})`,
      body: releaseBody(names.qTable),
      settings: [],
      create: release,
    },
    {
      role: 'renew',
      signature: `${names.qRenew}(${RENEW_ARGS})`,
      body: renewBody(names.qTable),
      settings: [],
      create: renew,
    },
    {
      role: 'block',
      signature: `${names.qBlock}(${BLOCK_ARGS})`,
      body: blockBody(names.qTable, names.qAcquire),
      settings: [],
      create: blockFunction(names.qTable, names.qAcquire, names.qBlock),
    },
  ];
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
