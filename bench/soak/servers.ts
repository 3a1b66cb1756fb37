/**
 * The soak's own stores: a redis-server and a PostgreSQL cluster (initdb in a temp dir), each
 * on a spare loopback port, started, stopped and restarted by the soak alone. The shared
 * servers of the machine are never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

const PG_BIN = process.env.SOAK_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free loopback port in a random place of [20000, 60000). */
export async function sparePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if (await portFree(port)) return port;
  }
  throw new Error('no free loopback port found in [20000, 60000)');
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it resolves true, or throws after `ms`. */
async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await pause(100);
  }
  throw new Error(`${what} not ready after ${ms} ms`);
}

export interface SoakStore {
  readonly name: string;
  readonly url: string;
  /** Whether a restart keeps the limiters' state (then one state segment, else two). */
  readonly keepsStateOnRestart: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops and removes its files. */
  destroy(): Promise<void>;
}

/** redis-server without persistence: a restart loses every key. */
export class PrivateRedis implements SoakStore {
  readonly name = 'redis';
  readonly keepsStateOnRestart = false;
  private proc?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rs-soak-redis-'));
  constructor(private readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    this.proc = spawn('redis-server', [...args, '--dir', this.dir], { stdio: 'ignore' });
    await until(`redis-server on ${this.port}`, 10_000, async () => {
      const c = new Redis(this.url, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    });
  }

  /** SIGTERM to its own PID, then waits for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A PostgreSQL cluster of its own (initdb, pg_ctl), run as the `postgres` user when the soak
 * runs as root (PostgreSQL refuses root). Stopped with `-m fast`: a clean shutdown, so the
 * state table (logged, the default) survives the restart.
 */
export class PrivatePostgres implements SoakStore {
  readonly name = 'postgres';
  readonly keepsStateOnRestart = true;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rs-soak-pg-'));
  private readonly data = join(this.dir, 'data');
  private running = false;
  constructor(private readonly port: number) {
    if (process.getuid?.() === 0) {
      const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      chownSync(this.dir, Number(pw.stdout), Number(gid.stdout));
    }
    this.run('initdb', [
      '-D',
      this.data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(tool: string, args: string[]): void {
    const bin = join(PG_BIN, tool);
    const asRoot = process.getuid?.() === 0;
    const r = spawnSync(
      asRoot ? 'runuser' : bin,
      asRoot ? ['-u', 'postgres', '--', bin, ...args] : args,
      {
        encoding: 'utf8',
        cwd: this.dir,
      },
    );
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout}`);
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
    this.run('pg_ctl', ['-D', this.data, '-o', opts, '-l', join(this.dir, 'log'), '-w', 'start']);
    this.running = true;
    await until(`postgres on ${this.port}`, 15_000, async () => {
      const c = new Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
