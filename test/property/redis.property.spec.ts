import { systemClock } from '../../lib/core/clock';
import { RedisEngine } from '../../lib/core/engines/redis';
import { MemoLogger, dropPrefix } from '../redis/engine-fixture';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { engineProperties } from './engine-properties';

describeRedis('redis engine agrees with the reference model, by property', () => {
  const prefix = uniquePrefix('property');
  engineProperties({
    runs: 250,
    timeoutMs: 90_000,
    // The scripts decide at the test clock's instant (ARGV `now`), not at the server's TIME.
    open: async (testClock) => {
      const engine = new RedisEngine({
        storeId: 'property',
        options: { engine: 'redis', url: redisUrl(), keyPrefix: prefix },
        clock: systemClock,
        testClock,
        logger: new MemoLogger(),
      });
      await engine.connect();
      return engine;
    },
    cleanup: () => dropPrefix(prefix),
  });
});
