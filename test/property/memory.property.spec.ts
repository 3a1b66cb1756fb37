import { MemoryEngine } from '../../lib/core/engines/memory';
import { engineProperties } from './engine-properties';

describe('memory engine agrees with the reference model, by property', () => {
  engineProperties({
    runs: 1000,
    timeoutMs: 60_000,
    open: async (clock) => {
      const engine = new MemoryEngine({ clock });
      await engine.connect();
      return engine;
    },
  });
});
