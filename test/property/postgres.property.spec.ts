import { PostgresEngine } from '../../lib/core/engines/postgres';
import { describePg, dropSchema, pgContext, uniqueName } from '../support/postgres';
import { engineProperties } from './engine-properties';

describePg('postgres engine agrees with the reference model, by property', () => {
  const schema = uniqueName('rs_property');
  engineProperties({
    runs: 150,
    timeoutMs: 90_000,
    // The SQL decides at the test clock's instant (a parameter), not at clock_timestamp().
    open: async (testClock) => {
      // No expired-row cleanup: it runs on the server's clock, which is years past the test
      // clock's, so it would delete rows the scenario still holds (a longer run found that).
      const engine = new PostgresEngine(
        pgContext({ schemaName: schema, cleanupInterval: 0 }, { testClock }),
      );
      await engine.connect();
      return engine;
    },
    cleanup: () => dropSchema(schema),
  });
});
