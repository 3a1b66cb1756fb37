import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import type { ContractTarget } from './contract-target';
import { answersContract } from './answers-contract';
import { engineContract } from './engine-contract';
import { longWaitsContract } from './long-waits-contract';
import { refundContract } from './refund-contract';
import { blockContract } from './block-contract';

/** The Redis engine contract again, on the node-redis driver (`driver = "node-redis"`). */
describeRedis('engine contract: redis (node-redis driver)', () => {
  const target: ContractTarget = {
    name: 'redis',
    store: () => ({
      engine: 'redis',
      driver: 'node-redis',
      url: redisUrl(),
      keyPrefix: uniquePrefix('contract_nr'),
    }),
  };
  engineContract(target);
  answersContract(target);
  longWaitsContract(target);
  refundContract(target);
  blockContract(target);
});
