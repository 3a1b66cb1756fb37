import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { engineContract } from './engine-contract';

describeRedis('engine contract: redis', () => {
  engineContract({
    name: 'redis',
    store: () => ({ engine: 'redis', url: redisUrl(), keyPrefix: uniquePrefix('contract') }),
  });
});
