import { PostgresEngine } from '../../lib/core/engines/postgres';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { describePg, dropSchema, pgContext, uniqueName } from '../support/postgres';

/**
 * Durations past Node's timer range (2^31 - 1 ms) given in code (validation rejects them in a
 * configuration) must not overflow: a statement timeout PostgreSQL cannot hold, or a query
 * deadline that fires after 1 ms.
 */
describePg('PostgresEngine: timeouts beyond a timer range', () => {
  const schema = uniqueName('rs_longto');
  afterAll(() => dropSchema(schema));

  it('socket_timeout and cleanup_interval of 30 days: decisions are made', async () => {
    const engine = new PostgresEngine(
      pgContext({ schemaName: schema, socketTimeout: 30 * 86_400, cleanupInterval: 30 * 86_400 }),
    );
    try {
      await engine.connect();
      const tb = toPolicy('tb', { store: 's', ratePerSecond: 1000, burst: 100 });
      for (let i = 0; i < 5; i++) {
        const [d] = await engine.acquire([
          { policy: tb, key: storageKey('tb', `k${i}`), cost: 1, maxWaitMs: 0 },
        ]);
        expect(d.allowed).toBe(true);
      }
    } finally {
      await engine.close();
    }
  });
});
