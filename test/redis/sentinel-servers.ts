import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer, sparePort } from './redis-server';

/** Milliseconds without an answer before the Sentinels call the master down. */
export const DOWN_AFTER_MS = 1000;

/**
 * A private Sentinel setup on spare loopback ports: a master, one replica, and three
 * Sentinels (quorum 2) watching it as `mymaster`. Every process is stopped by its PID.
 */
export class SentinelSetup {
  readonly name = 'mymaster';
  master!: RedisServer;
  replica!: RedisServer;
  readonly sentinelPorts: number[] = [];
  private readonly sentinels: ChildProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'rs-sentinel-'));

  async start(from: number): Promise<void> {
    this.master = new RedisServer(await sparePort(from, from + 100));
    await this.master.start();
    this.replica = new RedisServer(await sparePort(from + 100, from + 200), [
      '--replicaof',
      '127.0.0.1',
      String(this.master.port),
    ]);
    await this.replica.start();
    await this.until(() => this.master.cli('info', 'replication').includes('connected_slaves:1'));
    for (let i = 0; i < 3; i++) {
      const port = await sparePort(from + 200 + i * 30, from + 230 + i * 30);
      const conf = join(this.dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${this.name} 127.0.0.1 ${this.master.port} 2`,
          `sentinel down-after-milliseconds ${this.name} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${this.name} 5000`,
          `sentinel parallel-syncs ${this.name} 1`,
          '',
        ].join('\n'),
      );
      this.sentinels.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
      this.sentinelPorts.push(port);
    }
    // Every Sentinel answers and has found the replica (so that it can promote it).
    await this.until(() =>
      this.sentinelPorts.every((p) =>
        cli(p, 'sentinel', 'replicas', this.name).includes(String(this.replica.port)),
      ),
    );
  }

  /** The port of the master the Sentinels name now. */
  masterPort(): number {
    const out = cli(this.sentinelPorts[0], 'sentinel', 'get-master-addr-by-name', this.name);
    return Number(out.trim().split('\n')[1]);
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.sentinels.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    await this.replica?.dispose();
    await this.master?.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async until(condition: () => boolean): Promise<void> {
    const deadline = performance.now() + 15_000;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error('the Sentinel setup did not come up');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
}
