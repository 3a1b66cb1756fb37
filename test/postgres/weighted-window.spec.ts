/**
 * A sliding-window admission of any cost is one entry carrying its weight in its key's row, so
 * a decision's work does not grow with its cost, and the window stays exact. Rows written one
 * time per unit (before weights) keep their meaning.
 */
import { PostgresEngine } from '../../lib/core/engines/postgres';
import type { AcquireRequest } from '../../lib/core/engines/engine';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { describePg, dropSchema, pgContext, uniqueName, withClient } from '../support/postgres';

const big = toPolicy('bulk', {
  store: 's',
  algorithm: 'sliding_window',
  limit: 1_000_000,
  windowSeconds: 60,
});
const req = (key: string, cost: number, policy = big): AcquireRequest => ({
  policy,
  key,
  cost,
  maxWaitMs: 0,
});

describePg('PostgresEngine: weighted sliding-window entries', () => {
  const schema = uniqueName('rs_weighted');
  let engine: PostgresEngine;
  beforeAll(async () => {
    engine = new PostgresEngine(pgContext({ schemaName: schema }));
    await engine.connect();
  });
  afterAll(async () => {
    await engine.close();
    await dropSchema(schema);
  });

  const entries = (key: string): Promise<number[]> =>
    withClient(
      async (c) =>
        (await c.query(`SELECT entries FROM "${schema}".rate_limiter_state WHERE key = $1`, [key]))
          .rows[0].entries as number[],
    );

  it('records a cost of 200000 as one entry, and counts it exactly afterwards', async () => {
    const key = storageKey('bulk', 'u');
    const [first] = await engine.acquire([req(key, 200_000)]);
    expect(first).toMatchObject({ allowed: true, remaining: 800_000 });
    const stored = await entries(key);
    expect(stored).toHaveLength(2);
    expect(stored[1]).toBe(-200_000);

    const [over] = await engine.acquire([req(key, 800_001)]);
    expect(over.allowed).toBe(false);
    expect(over.retryAfterMs).toBeGreaterThan(59_000);
    expect(over.retryAfterMs).toBeLessThanOrEqual(60_000);
    const [rest] = await engine.acquire([req(key, 800_000)]);
    expect(rest).toMatchObject({ allowed: true, remaining: 0 });
    expect((await engine.acquire([req(key, 1)]))[0].allowed).toBe(false);
    expect(await entries(key)).toHaveLength(4);
  });

  it('counts a row written one time per unit (before weights) as weight 1 each', async () => {
    const small = toPolicy('small', {
      store: 's',
      algorithm: 'sliding_window',
      limit: 3,
      windowSeconds: 60,
    });
    const key = storageKey('small', 'u');
    await withClient((c) =>
      c.query(
        `INSERT INTO "${schema}".rate_limiter_state (key, entries, expires_at)
         SELECT $1, ARRAY[t, t], t + 60000
           FROM (SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t) AS now`,
        [key],
      ),
    );
    const [d] = await engine.acquire([req(key, 1, small)]);
    expect(d).toMatchObject({ allowed: true, remaining: 0 });
    expect((await engine.acquire([req(key, 1, small)]))[0].allowed).toBe(false);
  });
});
