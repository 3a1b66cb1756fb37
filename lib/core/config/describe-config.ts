import type { RateSyncConfig } from '../options';
import { describeConfigSource } from './config-source';

/**
 * One line for the boot log: where the configuration came from, the stores and their engines,
 * and the number of limiters. No URL, password or other store option: nothing secret.
 *
 * @example 'config file /app/rate-sync.toml; stores: main (redis), local (memory); 3 limiters'
 */
export function describeConfig(config: RateSyncConfig): string {
  const source = config.source ? describeConfigSource(config.source) : 'configuration in code';
  const stores = Object.entries(config.stores).map(([id, o]) => `${id} (${o.engine})`);
  const limiters = Object.keys(config.limiters).length;
  return (
    `${source}; stores: ${stores.length ? stores.join(', ') : 'none'}; ` +
    `${limiters} limiter${limiters === 1 ? '' : 's'}`
  );
}
