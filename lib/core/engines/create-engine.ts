import { MissingDriverError } from '../errors';
import type { Engine } from './engine';
import type { EngineContext } from './engine-context';
import { MemoryEngine } from './memory';
import type { StoreOptions } from '../options';

/**
 * Builds the engine of a store. The redis and postgres engines (and through them `ioredis`
 * and `pg`) are loaded only when a store of that engine is configured.
 */
export function createEngine(ctx: EngineContext): Engine {
  switch (ctx.options.engine) {
    case 'memory':
      return new MemoryEngine({ clock: ctx.clock, maxKeys: ctx.options.maxKeys });
    case 'redis': {
      requireDriver(ctx.storeId, redisDriverPackage(ctx.options));
      const { RedisEngine } = require('./redis') as typeof import('./redis');
      return new RedisEngine(ctx);
    }
    case 'postgres': {
      requireDriver(ctx.storeId, 'pg');
      const { PostgresEngine } = require('./postgres') as typeof import('./postgres');
      return new PostgresEngine(ctx);
    }
  }
}

/**
 * The package a redis store loads: that of the client given in code (node-redis has
 * sendCommand() and isReady, ioredis a status string), else the one `driver` names.
 */
function redisDriverPackage(o: StoreOptions): string {
  if (o.client) {
    const c = o.client as Record<string, unknown>;
    return typeof c.sendCommand === 'function' && 'isReady' in c ? 'redis' : 'ioredis';
  }
  return o.driver === 'node-redis' ? 'redis' : 'ioredis';
}

function requireDriver(storeId: string, pkg: string): void {
  try {
    require.resolve(pkg);
  } catch (err) {
    throw new MissingDriverError(storeId, pkg, err);
  }
}
