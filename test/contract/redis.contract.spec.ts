import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import type { ContractTarget } from './contract-target';
import { answersContract } from './answers-contract';
import { engineContract } from './engine-contract';
import { longWaitsContract } from './long-waits-contract';
import { refundContract } from './refund-contract';
import { blockContract } from './block-contract';

describeRedis('engine contract: redis', () => {
  const target: ContractTarget = {
    name: 'redis',
    store: () => ({ engine: 'redis', url: redisUrl(), keyPrefix: uniquePrefix('contract') }),
  };
  engineContract(target);
  answersContract(target);
  longWaitsContract(target);
  refundContract(target);
  blockContract(target);
});
