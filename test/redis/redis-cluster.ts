import { spawnSync } from 'node:child_process';
import { portFree, RedisServer } from './redis-server';

/**
 * A throw-away 3-master Redis Cluster on loopback ports owned by the test: three
 * `redis-server --cluster-enabled yes` processes joined by `redis-cli --cluster create`,
 * stopped by PID afterwards. Each node also needs its bus port (port + 10000) free.
 */
export class RedisCluster {
  readonly servers: RedisServer[];

  private constructor(readonly ports: number[]) {
    this.servers = ports.map(
      (p) =>
        new RedisServer(p, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${p}.conf`,
          '--cluster-node-timeout',
          '2000',
        ]),
    );
  }

  /** Finds three consecutive free ports (and bus ports) in [from, to) and starts the cluster. */
  static async start(from = 17000, to = 17100): Promise<RedisCluster> {
    for (let base = from; base + 3 <= to; base += 3) {
      const ports = [base, base + 1, base + 2];
      const free = await Promise.all(ports.flatMap((p) => [portFree(p), portFree(p + 10000)]));
      if (!free.every(Boolean)) continue;
      const cluster = new RedisCluster(ports);
      await cluster.boot();
      return cluster;
    }
    throw new Error(`no three free ports for a cluster in [${from}, ${to})`);
  }

  /** `host:port` seeds for `clusterNodes`. */
  get nodes(): string[] {
    return this.ports.map((p) => `127.0.0.1:${p}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.dispose()));
  }

  private async boot(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.start()));
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...this.nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (create.status !== 0)
      throw new Error(`cluster create failed: ${create.stdout}${create.stderr}`);
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      if (this.servers.every((s) => /cluster_state:ok/.test(s.cli('cluster', 'info')))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('cluster did not reach cluster_state:ok');
  }
}
