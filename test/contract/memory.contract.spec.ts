import { engineContract } from './engine-contract';

describe('engine contract: memory', () => {
  engineContract({ name: 'memory', manualClock: true, store: () => ({ engine: 'memory' }) });
});
