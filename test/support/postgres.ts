/**
 * Helpers for the suites that need a real PostgreSQL (test/postgres, the contract suite's
 * postgres target). The server is `DATABASE_URL`, by default the local trust-auth one.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { systemClock, type Clock } from '../../lib/core/clock';
import { redactUrl } from '../../lib/core/config/redact';
import type { EngineContext } from '../../lib/core/engines/engine-context';
import type { RateSyncLogger } from '../../lib/core/logger';
import type { StoreOptions } from '../../lib/core/options';
import { describeIfPresent } from './needs-server';

/** The test server. */
export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let status: true | string | undefined;

/**
 * Whether the server answers, checked once per test file by a child process (so the check is
 * synchronous and usable around `describe`). Returns true or the reason it is unreachable.
 */
export function pgStatus(): true | string {
  if (status !== undefined) return status;
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const { Client } = require('pg');
       const c = new Client({ connectionString: process.env.RS_PG_URL, connectionTimeoutMillis: 3000 });
       c.connect().then(() => c.query('SELECT 1')).then(() => c.end()).then(
         () => process.exit(0),
         (e) => { process.stderr.write(String(e.message || e.code || e)); process.exit(1); });`,
    ],
    {
      cwd: __dirname,
      env: { ...process.env, RS_PG_URL: PG_URL },
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  status = probe.status === 0 ? true : probe.stderr.trim() || `probe exited with ${probe.status}`;
  return status;
}

/** `describe` for suites that need PostgreSQL; see {@link describeIfPresent} when it is down. */
export function describePg(name: string, fn: () => void): void {
  const s = pgStatus();
  describeIfPresent(
    name,
    fn,
    s === true ? undefined : `PostgreSQL is unreachable at ${redactUrl(PG_URL)}: ${s}`,
    'Start it or set DATABASE_URL',
  );
}

/** A fresh identifier for a schema or table: unique per run, file and call. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Runs `fn` with a plain client on the test server, closed afterwards. */
export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops a schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** A logger that keeps what it is told, for assertions (and stays quiet). */
export function captureLogger(): RateSyncLogger & { readonly messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    log: (m) => messages.push(`log: ${m}`),
    warn: (m) => messages.push(`warn: ${m}`),
    error: (m) => messages.push(`error: ${m}`),
  };
}

/** An engine context for a postgres store on the test server. */
export function pgContext(
  options: Partial<StoreOptions>,
  extra: { storeId?: string; logger?: RateSyncLogger; clock?: Clock; testClock?: Clock } = {},
): EngineContext {
  return {
    storeId: extra.storeId ?? 'pg-test',
    options: { engine: 'postgres', url: PG_URL, ...options },
    clock: extra.clock ?? systemClock,
    testClock: extra.testClock,
    logger: extra.logger ?? captureLogger(),
  };
}

/** The repository root. */
export const ROOT = resolve(__dirname, '../..');

/**
 * Compiles lib/core to plain JavaScript for child processes (ts-node is not a dependency) and
 * returns the output directory, under .tmp/ so that the children resolve `pg` from the
 * repository's node_modules. Remove it with {@link removeCompiled}.
 */
export function compileCore(label: string): string {
  const outDir = join(ROOT, '.tmp', uniqueName(label));
  mkdirSync(outDir, { recursive: true });
  const tsc = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      'test/postgres/tsconfig.children.json',
      '--outDir',
      outDir,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (!existsSync(join(outDir, 'core/index.js'))) {
    throw new Error(`compiling lib/core failed (exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
  }
  return outDir;
}

export function removeCompiled(outDir: string | undefined): void {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}
