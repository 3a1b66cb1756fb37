import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis-connection';
import { limiterScanPatterns, storageKeyOf } from './redis-keys';

/**
 * The storage keys holding state of one limiter, found by SCAN (never KEYS) with the patterns
 * of {@link limiterScanPatterns}, on the server or on every master of a cluster. Cost: a walk
 * over the whole keyspace in pages of 1000, for an administrative reset.
 */
export async function scanLimiterKeys(
  client: RedisClient,
  isCluster: boolean,
  prefix: string,
  keyPrefix: string,
): Promise<string[]> {
  const nodes: Redis[] = isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const found = new Set<string>();
  for (const node of nodes) {
    for (const pattern of limiterScanPatterns(prefix, keyPrefix)) {
      let cursor = '0';
      do {
        const [next, names] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        for (const name of names) {
          const sk = storageKeyOf(prefix, name);
          if (sk !== undefined) found.add(sk);
        }
        cursor = next;
      } while (cursor !== '0');
    }
  }
  return [...found];
}
