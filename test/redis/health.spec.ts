import { RateSync } from '../../lib/core';
import { PROBE_INTERVAL_MS } from '../../lib/core/store-probe';
import { healthUntil } from '../support/health';
import { describeRedis, describeRedisBinaries, redisUrl } from '../support/redis';
import { PrivateStore } from './private-store';
import type { RedisServer } from './redis-server';

/**
 * health() on an idle Redis store: a private server is killed, restarted and frozen while no
 * decision is made, and health() follows within a probe interval plus the probe timeout.
 */
const SOCKET_TIMEOUT_S = 0.3;
/** The documented bound: one probe interval, plus the probe timeout, plus slack for 2 cores. */
const DOWN_WITHIN_MS = PROBE_INTERVAL_MS + SOCKET_TIMEOUT_S * 1000 + 500;

describeRedisBinaries('redis health without traffic', () => {
  const store = new PrivateStore();
  let server: RedisServer;
  let rs: RateSync;

  beforeAll(async () => {
    rs = await store.open(
      [16500, 16600],
      { socketTimeout: SOCKET_TIMEOUT_S },
      {
        api: { maxConcurrent: 3 },
      },
    );
    server = store.server;
  }, 30_000);

  afterAll(() => store.close());

  it('reads down within a probe interval of a kill or a freeze, and up once back', async () => {
    expect(await rs.health()).toEqual([
      { store: 'r', engine: 'redis', up: true, breaker: 'closed' },
    ]);

    await server.stop('SIGKILL');
    const killed = await healthUntil(rs, false, 5000);
    expect(killed.ms).toBeLessThan(DOWN_WITHIN_MS);
    // Only decisions move the breaker; none was made.
    expect(killed.health).toMatchObject({
      breaker: 'closed',
      error: expect.stringContaining("Store 'r'"),
    });

    await server.start();
    const restarted = await healthUntil(rs, true, 5000);

    server.pause(true);
    const frozen = await healthUntil(rs, false, 5000);
    server.pause(false);
    expect(frozen.ms).toBeLessThan(DOWN_WITHIN_MS);
    expect(frozen.health.error).toMatch(/no (answer|reply) within/);
    const thawed = await healthUntil(rs, true, 5000);
    console.log(
      `redis health: down ${killed.ms} ms after a kill, up ${restarted.ms} ms after the restart, ` +
        `down ${frozen.ms} ms into a freeze, up ${thawed.ms} ms after the thaw`,
    );
    expect(rs.metrics('api').attempts).toBe(0);
  }, 30_000);
});

describeRedis('redis health of a store no limiter uses', () => {
  it('connects it on the first probe and reads up', async () => {
    const rs = new RateSync({
      stores: { idle: { engine: 'redis', url: redisUrl() } },
      limiters: {},
    });
    try {
      await rs.connect(); // connects the stores that limiters use: none
      expect(await rs.health()).toEqual([
        { store: 'idle', engine: 'redis', up: true, breaker: 'closed' },
      ]);
    } finally {
      await rs.close();
    }
  });
});
