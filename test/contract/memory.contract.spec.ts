import type { ContractTarget } from './contract-target';
import { answersContract } from './answers-contract';
import { engineContract } from './engine-contract';
import { longWaitsContract } from './long-waits-contract';
import { refundContract } from './refund-contract';
import { blockContract } from './block-contract';

describe('engine contract: memory', () => {
  const target: ContractTarget = {
    name: 'memory',
    manualClock: true,
    store: () => ({ engine: 'memory' }),
  };
  engineContract(target);
  answersContract(target);
  longWaitsContract(target);
  refundContract(target);
  blockContract(target);
});
