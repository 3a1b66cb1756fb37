/**
 * Found while writing the SQL twin of the reference model: renewing a lease that has already
 * expired must not revive it. The memory engine's own spec covers the same case.
 */
import { ManualClock } from '../../lib/core/clock';
import type { Engine } from '../../lib/core/engines/engine';
import { PostgresEngine } from '../../lib/core/engines/postgres';
import { toPolicy } from '../../lib/core/policy';
import { describePg, dropSchema, pgContext, uniqueName } from '../support/postgres';

const c = toPolicy('c', { store: 's', maxConcurrent: 1, leaseSeconds: 1 });
const take = (leaseId: string, dryRun = false) => ({
  policy: c,
  key: 'c',
  cost: 1,
  maxWaitMs: 0,
  leaseId,
  dryRun,
});

/**
 * max_concurrent = 1: holder A's lease expires, B takes the slot, then A's renewal timer fires
 * (A is alive but slow, or its renewal was delayed). The slot is B's now: renewing A must not
 * bring A's lease back, or two holders share a slot of one.
 */
async function twoHoldersAfterLateRenewal(
  engine: Engine,
  clock: ManualClock,
): Promise<number | undefined> {
  await engine.acquire([take('a')]);
  await clock.advance(1001);
  expect((await engine.acquire([take('b')]))[0].allowed).toBe(true);
  await engine.renew(c, 'c', ['a']);
  return (await engine.acquire([take('probe', true)]))[0].inFlight;
}

describePg('postgres engine: renewing an expired lease', () => {
  const schema = uniqueName('rs_findings');
  afterAll(() => dropSchema(schema));

  it('does not revive it', async () => {
    const clock = new ManualClock();
    const engine = new PostgresEngine(pgContext({ schemaName: schema }, { testClock: clock }));
    await engine.connect();
    try {
      expect(await twoHoldersAfterLateRenewal(engine, clock)).toBe(1);
    } finally {
      await engine.close();
    }
  });
});
