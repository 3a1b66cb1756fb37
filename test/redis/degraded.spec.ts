import { describeRedisBinaries, uniquePrefix } from '../support/redis';
import {
  closeFleet,
  loadThroughOutage,
  PROCS,
  sleep,
  startFleet,
  FAST_STORE,
} from '../support/degraded-fleet';
import type { JsonChild } from './child';
import { RedisServer, sparePort } from './redis-server';

/**
 * Degraded mode on a real outage (see test/support/degraded-fleet.ts): four processes, a
 * private Redis killed (SIGKILL) for a few seconds and restarted empty (no persistence), so the
 * store comes back with full buckets and empty windows: the carry-over after recovery is what
 * keeps them from admitting the outage's traffic a second time.
 */
describeRedisBinaries('degraded mode: four processes through a Redis outage', () => {
  const prefix = uniquePrefix('degraded');
  let server: RedisServer;
  let children: JsonChild[] = [];
  const fleetCount = (): string => server.cli('ZCARD', `${prefix}:fleet`).trim();

  beforeAll(async () => {
    server = new RedisServer(await sparePort(41_700, 41_800));
    await server.start();
    const url = `redis://127.0.0.1:${server.port}`;
    children = await startFleet({ engine: 'redis', url, keyPrefix: prefix });
    // Every process has a heartbeat in the store, and has beaten since the last one joined.
    while (fleetCount() !== String(PROCS)) await sleep(50);
    await sleep(FAST_STORE.heartbeatInterval * 2000);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await server?.dispose();
  });

  it('admits about the limit during the outage, exactly the limit before and after', async () => {
    await loadThroughOutage(
      'Redis (killed, restarted empty)',
      children,
      () => server.stop('SIGKILL'),
      () => server.start(),
    );
  }, 30_000);

  it('stops heartbeats on close: the records are removed and the processes exit by themselves', async () => {
    await closeFleet(children);
    expect(fleetCount()).toBe('0');
  }, 15_000);
});
