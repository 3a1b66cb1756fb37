import { RateSync, StoreUnavailableError } from '../../lib/core';
import { loadConfig } from '../../lib/core/config';
import { describeRedisBinaries } from '../support/redis';
import { MemoLogger } from './engine-fixture';
import { DOWN_AFTER_MS, SentinelSetup } from './sentinel-servers';

/**
 * A redis store behind Redis Sentinel (a private master, replica and three Sentinels): the
 * master is killed in the middle of load; meanwhile fail-open limiters admit and fail-closed
 * ones throw StoreUnavailableError, no call hangs, and decisions resume, exact, on the promoted
 * replica within the time docs/engines/redis.md gives (down-after-milliseconds, the election,
 * and at most one second of reconnection back-off).
 */
const SOCKET_TIMEOUT_S = 0.5;
/** The election of this setup (three local Sentinels) takes well under this. */
const ELECTION_BOUND_MS = 5000;
/** Index of the last failed outcome, or -1. */
const lastFailure = (outcomes: { ok: boolean }[]): number =>
  outcomes.map((o) => o.ok).lastIndexOf(false);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeRedisBinaries('redis store through Sentinel, across a failover', () => {
  const setup = new SentinelSetup();
  let rs: RateSync;
  const logger = new MemoLogger();

  beforeAll(async () => {
    await setup.start(43000);
    const config = loadConfig({
      configFile: false,
      stores: {
        ha: {
          engine: 'redis',
          sentinels: setup.sentinelPorts.map((p) => `127.0.0.1:${p}`),
          sentinelName: setup.name,
          socketTimeout: SOCKET_TIMEOUT_S,
          breakerCooldown: 0.2,
        },
      },
      limiters: {
        open: { store: 'ha', ratePerSecond: 10_000 },
        closed: { store: 'ha', ratePerSecond: 10_000, failClosed: true },
        window: { store: 'ha', algorithm: 'sliding_window', limit: 2, windowSeconds: 60 },
      },
    });
    rs = new RateSync(config, { logger });
    await rs.connect();
  }, 60_000);

  afterAll(async () => {
    await rs?.close();
    await setup.dispose();
  });

  it('fails as configured during the failover, then decides on the new master', async () => {
    const oldMaster = setup.master.port;
    expect((await rs.check('window', { key: 'before' })).allowed).toBe(true);

    let stop = false;
    let killedAt = 0;
    const closedOutcomes: { at: number; ok: boolean }[] = [];
    const unexpected: unknown[] = [];
    let slowest = 0;
    const load = (async () => {
      while (!stop) {
        const started = performance.now();
        await rs.check('open').catch((e: unknown) => unexpected.push(e));
        const ok = await rs.acquire('closed', { timeout: 0 }).then(
          () => true,
          (e: unknown) => {
            if (!(e instanceof StoreUnavailableError)) unexpected.push(e);
            return false;
          },
        );
        if (killedAt) closedOutcomes.push({ at: performance.now(), ok });
        slowest = Math.max(slowest, performance.now() - started);
        await sleep(20);
      }
    })();

    await sleep(300);
    await setup.master.stop('SIGKILL');
    killedAt = performance.now();
    const bound = DOWN_AFTER_MS + ELECTION_BOUND_MS + 1000;
    while (performance.now() - killedAt < bound + 2000) {
      const lastFail = lastFailure(closedOutcomes);
      // Resumed: a failure, then a run of successes after it.
      if (lastFail >= 0 && closedOutcomes.length - lastFail > 10) break;
      await sleep(100);
    }
    stop = true;
    await load;

    expect(unexpected).toEqual([]);
    const firstFail = closedOutcomes.find((o) => !o.ok);
    const lastFail = lastFailure(closedOutcomes);
    expect(firstFail).toBeDefined();
    const resumedAt = closedOutcomes[lastFail + 1]?.at;
    expect(resumedAt).toBeDefined();
    const resumedAfter = resumedAt - killedAt;
    console.info(`sentinel failover: decisions resumed ${resumedAfter} ms after the kill`);
    expect(resumedAfter).toBeLessThan(bound);
    // No call outlived the command timeout by much (the breaker answers the rest at once).
    expect(slowest).toBeLessThan(SOCKET_TIMEOUT_S * 1000 + 1000);
    // Fail-open limiters were admitted and warned, naming the store.
    expect(logger.lines.join('\n')).toMatch(/store 'ha'|Store 'ha'/);

    // The replica is the master now, and decisions on it are exact.
    expect(setup.masterPort()).toBe(setup.replica.port);
    expect(setup.masterPort()).not.toBe(oldMaster);
    const key = 'after';
    expect((await rs.check('window', { key })).allowed).toBe(true);
    expect((await rs.check('window', { key })).allowed).toBe(true);
    expect((await rs.check('window', { key })).allowed).toBe(false);
  }, 60_000);
});
