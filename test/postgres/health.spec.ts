import { RateSync } from '../../lib/core';
import { PROBE_INTERVAL_MS } from '../../lib/core/store-probe';
import { healthUntil } from '../support/health';
import { PG_URL, captureLogger, describePg, dropSchema, uniqueName } from '../support/postgres';
import { TcpProxy } from './tcp-proxy';

/**
 * health() on an idle PostgreSQL store, reached through a proxy that refuses connections or
 * goes silent while no decision is made: health() follows within a probe interval plus the
 * probe timeout, and reads up again once the server answers.
 */
const SOCKET_TIMEOUT_S = 0.3;
/** The documented bound: one probe interval, plus the probe timeout, plus slack for 2 cores. */
const DOWN_WITHIN_MS = PROBE_INTERVAL_MS + SOCKET_TIMEOUT_S * 1000 + 500;

describePg('postgres health without traffic', () => {
  const schema = uniqueName('rs_health');
  const target = new URL(PG_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  let rs: RateSync;

  beforeAll(async () => {
    await proxy.up();
    const url = new URL(PG_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    rs = new RateSync(
      {
        stores: {
          pg: {
            engine: 'postgres',
            url: url.toString(),
            schemaName: schema,
            socketTimeout: SOCKET_TIMEOUT_S,
            socketConnectTimeout: 0.5,
          },
        },
        limiters: { api: { store: 'pg', maxConcurrent: 3 } },
      },
      { logger: captureLogger() },
    );
    await rs.connect();
  }, 30_000);

  afterAll(async () => {
    await rs?.close();
    await proxy.close();
    await dropSchema(schema);
  });

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
