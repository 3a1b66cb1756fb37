import type { StoreOptions } from '../../lib/core';
import { dropSchema, PG_URL, pgStatus, uniqueName } from '../support/postgres';
import { redisAvailable, redisUrl, uniquePrefix } from '../support/redis';

/** A store the metrics suites run on, when its server is reachable. */
export interface MetricsTarget {
  readonly name: 'memory' | 'redis' | 'postgres';
  readonly store: () => StoreOptions;
  /** Removes what `store()` created on the server. */
  readonly cleanup?: (store: StoreOptions) => Promise<void>;
}

/** Memory always; Redis and PostgreSQL when they answer (each run uses fresh keys or tables). */
export function metricsTargets(): MetricsTarget[] {
  const targets: MetricsTarget[] = [{ name: 'memory', store: () => ({ engine: 'memory' }) }];
  if (redisAvailable()) {
    targets.push({
      name: 'redis',
      store: () => ({ engine: 'redis', url: redisUrl(), keyPrefix: uniquePrefix('metrics') }),
    });
  }
  if (pgStatus() === true) {
    targets.push({
      name: 'postgres',
      store: () => ({ engine: 'postgres', url: PG_URL, schemaName: uniqueName('metrics') }),
      cleanup: (store) => dropSchema(store.schemaName!),
    });
  }
  return targets;
}
