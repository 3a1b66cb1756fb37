import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import type { ServerStats } from './one-in-flight';

const run = promisify(execFile);

/** A private PostgreSQL: its URL, and how to stop it (its data folder is removed). */
export interface PrivatePostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL on a spare port of 127.0.0.1 with `pg_stat_statements` preloaded, so
 * that the server's own time per statement can be read (the shared server's configuration is
 * not ours to change). Needs `initdb` and `pg_ctl` on the PATH; as root they run as the
 * `postgres` user. Resolves to undefined when that is not possible.
 */
export async function privatePostgres(): Promise<PrivatePostgres | undefined> {
  const dir = mkdtempSync('/tmp/rs-bench-pg-');
  const asRoot = userInfo().uid === 0;
  const as = (cmd: string, args: string[]): Promise<unknown> =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);
  const data = join(dir, 'data');
  const port = 40000 + Math.floor(Math.random() * 10000);
  try {
    if (asRoot) chownSync(dir, await uidOf('postgres'), -1);
    await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c shared_preload_libraries=pg_stat_statements',
      '-c pg_stat_statements.track=top',
    ].join(' ');
    await as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', 'start']);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async (): Promise<void> => {
    await as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const admin = new Pool({ connectionString: url, max: 1 });
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  } catch {
    await stop(); // started, but without the extension it is of no use
    return undefined;
  } finally {
    await admin.end();
  }
  return { url, stop };
}

async function uidOf(user: string): Promise<number> {
  const { stdout } = await run('id', ['-u', user]);
  return Number(String(stdout).trim());
}

/**
 * The server's time for the statements of a run, from `pg_stat_statements` (execution and
 * planning time of top-level statements; the statements reading it left out), as a difference
 * between before and after: nothing is reset.
 */
export function statementTime(pool: Pool): ServerStats {
  let before = { micros: 0, calls: 0 };
  const read = async (): Promise<{ micros: number; calls: number }> => {
    const { rows } = await pool.query<{ ms: number | null; calls: string | null }>(
      `SELECT sum(total_exec_time + total_plan_time) AS ms, sum(calls) AS calls
         FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'`,
    );
    return { micros: Number(rows[0].ms ?? 0) * 1000, calls: Number(rows[0].calls ?? 0) };
  };
  return {
    reset: async () => {
      before = await read();
    },
    read: async () => {
      const after = await read();
      return { micros: after.micros - before.micros, calls: after.calls - before.calls };
    },
  };
}
