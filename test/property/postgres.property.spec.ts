import { PostgresEngine } from '../../lib/core/engines/postgres';
import { describePg, dropSchema, pgContext, uniqueName } from '../support/postgres';
import { engineProperties } from './engine-properties';

describePg('postgres engine agrees with the reference model, by property', () => {
  const schema = uniqueName('rs_property');
  engineProperties({
    runs: 150,
    timeoutMs: 30_000,
    // The SQL decides at the test clock's instant (a parameter), not at clock_timestamp().
    open: async (testClock) => {
      const engine = new PostgresEngine(pgContext({ schemaName: schema }, { testClock }));
      await engine.connect();
      return engine;
    },
    cleanup: () => dropSchema(schema),
  });
});
