import { RateSync } from '../../lib/core';
import { PROBE_INTERVAL_MS } from '../../lib/core/store-probe';
import { healthUntil } from '../support/health';
import { describePg } from '../support/postgres';
import { ProxiedStore } from './proxied-store';

/**
 * health() on an idle PostgreSQL store, reached through a proxy that refuses connections or
 * goes silent while no decision is made: health() follows within a probe interval plus the
 * probe timeout, and reads up again once the server answers.
 */
const SOCKET_TIMEOUT_S = 0.3;
/** The documented bound: one probe interval, plus the probe timeout, plus slack for 2 cores. */
const DOWN_WITHIN_MS = PROBE_INTERVAL_MS + SOCKET_TIMEOUT_S * 1000 + 500;

describePg('postgres health without traffic', () => {
  const store = new ProxiedStore();
  const proxy = store.proxy;
  let rs: RateSync;

  beforeAll(async () => {
    rs = await store.open(
      { socketTimeout: SOCKET_TIMEOUT_S, socketConnectTimeout: 0.5 },
      { api: { maxConcurrent: 3 } },
    );
  }, 30_000);

  afterAll(() => store.close());

  it('reads down within a probe interval of an outage or a silent network, and up once back', async () => {
    expect(await rs.health()).toEqual([
      { store: 'pg', engine: 'postgres', up: true, breaker: 'closed' },
    ]);

    await proxy.down();
    const refused = await healthUntil(rs, false, 5000);
    expect(refused.ms).toBeLessThan(DOWN_WITHIN_MS);
    expect(refused.health).toMatchObject({
      breaker: 'closed',
      error: expect.stringContaining("Store 'pg'"),
    });
    await proxy.up();
    const back = await healthUntil(rs, true, 5000);

    proxy.blackhole();
    const silent = await healthUntil(rs, false, 5000);
    expect(silent.ms).toBeLessThan(DOWN_WITHIN_MS);
    await proxy.down();
    await proxy.up();
    const restored = await healthUntil(rs, true, 5000);
    console.log(
      `postgres health: down ${refused.ms} ms into an outage, up ${back.ms} ms after it, ` +
        `down ${silent.ms} ms into a silent network, up ${restored.ms} ms after it`,
    );
    expect(rs.metrics('api').attempts).toBe(0);
  }, 30_000);
});
