import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resolves to true when nothing listens on the loopback port. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free loopback port in [from, to), tried in a random order. */
export async function sparePort(from: number, to: number): Promise<number> {
  const ports = Array.from({ length: to - from }, (_, i) => from + i).sort(
    () => Math.random() - 0.5,
  );
  for (const p of ports) if (await portFree(p)) return p;
  throw new Error(`no free port in [${from}, ${to})`);
}

/**
 * A throw-away `redis-server` on a loopback port, owned by the test: started, stopped (by
 * its PID, never by name), paused (SIGSTOP) and restarted on the same port. No persistence.
 */
export class RedisServer {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'rs-redis-'));

  constructor(
    readonly port: number,
    private readonly extra: string[] = [],
  ) {}

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
    this.proc = spawn('redis-server', [...args, '--dir', this.dir, ...this.extra], {
      stdio: 'ignore',
    });
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const r = spawnSync('redis-cli', ['-p', String(this.port), ...this.authArgs(), 'ping'], {
        encoding: 'utf8',
      });
      if (r.stdout.trim() === 'PONG') return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  /** Stops the server (SIGKILL by default: an abrupt outage) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGCONT');
      p.kill(signal);
    });
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: a hung server rather than a dead one. */
  pause(paused: boolean): void {
    this.proc?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Runs redis-cli against this server; returns stdout. */
  cli(...args: string[]): string {
    return spawnSync('redis-cli', ['-p', String(this.port), ...this.authArgs(), ...args], {
      encoding: 'utf8',
    }).stdout;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private authArgs(): string[] {
    const i = this.extra.indexOf('--requirepass');
    return i >= 0 ? ['--no-auth-warning', '-a', this.extra[i + 1]] : [];
  }
}
