import type { RedisClusterType } from 'redis';
import type { RedisDriverClient } from './node-redis-adapter';
import { NodeRedisConnection, neverSentAs } from './node-redis-connection';

/** A node-redis cluster client (`createCluster`), as far as the adapter uses it. */
type NodeCluster = RedisClusterType;
/** One master of a node-redis cluster. */
type Master = NodeCluster['masters'][number];

/**
 * The operations the engine uses on one master of a cluster (loading scripts, scanning keys
 * for a reset), in ioredis' signatures.
 */
export type ClusterMaster = Pick<RedisDriverClient, 'script' | 'scan'>;

/**
 * A node-redis cluster client behind the operations the engine uses on an ioredis `Cluster`:
 * scripts routed by their first key (every key of one call shares a hash tag, so one slot),
 * the masters for SCRIPT LOAD and SCAN, pub/sub on the cluster's own subscriber node
 * (re-subscribed by node-redis when that node fails), and ioredis' states and errors (see
 * `NodeRedisAdapter`). Slot moves (MOVED, ASK) and topology changes are node-redis' own.
 */
export class NodeRedisClusterAdapter extends NodeRedisConnection<NodeCluster> {
  readonly isCluster = true as const;
  /** Settles when the connection started by {@link duplicate} is made or has failed. */
  private connecting: Promise<unknown> = Promise.resolve();

  constructor(raw: NodeCluster, commandTimeoutMs?: number) {
    // A cluster says 'connect' once its slots are known, and 'disconnect' when closed.
    super(raw, commandTimeoutMs, { ready: 'connect', end: 'disconnect' });
  }

  /** ioredis keeps a Cluster's per-node options in `redisOptions`; the engine reads them so. */
  get options(): { redisOptions: { commandTimeout?: number } } {
    return { redisOptions: { commandTimeout: this.commandTimeoutMs } };
  }

  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown> {
    return this.send(keysAndArgs[0], ['EVALSHA', sha, String(numKeys), ...keysAndArgs]);
  }

  eval(lua: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown> {
    return this.send(keysAndArgs[0], ['EVAL', lua, String(numKeys), ...keysAndArgs]);
  }

  ping(): Promise<unknown> {
    return this.send(undefined, ['PING']);
  }

  /** The masters now known, each addressed through the cluster's own connection to it. */
  nodes(_role: 'master'): ClusterMaster[] {
    return this.raw.masters.map((master) => this.onMaster(master));
  }

  subscribe(...channels: string[]): Promise<unknown> {
    // A copy subscribes once connected (a cluster refuses commands before it knows its slots).
    return this.connecting
      .then(() => this.raw.subscribe(channels, this.onMessage))
      .catch(neverSentAs);
  }

  /** A second cluster client of the same options (a subscriber), connecting at once. */
  duplicate(): NodeRedisClusterAdapter {
    const copy = new NodeRedisClusterAdapter(this.raw.duplicate(), this.commandTimeoutMs);
    // Its errors reach the caller's 'error' listener; the first attempt's rejection is one.
    copy.connecting = copy.connect().catch(() => undefined);
    return copy;
  }

  private onMaster(master: Master): ClusterMaster {
    const run = (args: string[]): Promise<unknown> =>
      this.raw
        .nodeClient(master)
        .then((client) => client.sendCommand(args))
        .catch(neverSentAs);
    return {
      script: (sub, lua) => run(['SCRIPT', sub, lua]),
      scan: (cursor, match, pattern, count, n) =>
        run(['SCAN', cursor, match, pattern, count, String(n)]) as Promise<[string, string[]]>,
    };
  }

  private send(firstKey: string | undefined, args: string[]): Promise<unknown> {
    return this.raw.sendCommand(firstKey, false, args).catch(neverSentAs);
  }
}
