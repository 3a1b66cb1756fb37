import {
  FAST_STORE,
  PROCS,
  closeFleet,
  loadThroughOutage,
  sleep,
  startFleet,
} from '../support/degraded-fleet';
import { PG_URL, describePg, dropSchema, uniqueName, withClient } from '../support/postgres';
import type { JsonChild } from '../redis/child';
import { TcpProxy } from './tcp-proxy';

/**
 * Degraded mode on PostgreSQL (see test/support/degraded-fleet.ts): four processes reach the
 * test server through a TCP proxy that drops every connection and refuses new ones for a few
 * seconds, which is what clients see of a killed server (the suites run as root here, where
 * `initdb` refuses to start a private server). The state survives the outage, unlike the Redis
 * suite's restarted server: the store comes back with the windows as they were before it.
 */
describePg('degraded mode: four processes through a PostgreSQL outage', () => {
  const schema = uniqueName('rs_degraded');
  const target = new URL(PG_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  let children: JsonChild[] = [];
  const alive = (): Promise<number> =>
    withClient(async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM "${schema}".rate_limiter_state
          WHERE key LIKE ' fleet %' AND expires_at > extract(epoch FROM clock_timestamp()) * 1000`,
      );
      return rows[0].n;
    });

  beforeAll(async () => {
    await proxy.up();
    const url = new URL(PG_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    children = await startFleet({ engine: 'postgres', url: url.toString(), schemaName: schema });
    while ((await alive()) !== PROCS) await sleep(50);
    await sleep(FAST_STORE.heartbeatInterval * 2000);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await proxy.down();
    await dropSchema(schema);
  });

  it('admits about the limit during the outage, exactly the limit before and after', async () => {
    await loadThroughOutage(
      'PostgreSQL (every connection cut)',
      children,
      () => proxy.down(),
      () => proxy.up(),
    );
  }, 30_000);

  it('stops heartbeats on close: the rows are removed and the processes exit by themselves', async () => {
    await closeFleet(children);
    expect(await alive()).toBe(0);
  }, 15_000);
});
