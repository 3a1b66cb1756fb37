import { join } from 'node:path';
import { RateSync } from '../../lib/core';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { buildCore } from './build-core';
import { JsonChild } from './child';

/**
 * DESIGN 3.2: a process holding concurrency slots is killed with SIGKILL (no release, no
 * shutdown hook). Its slots come back within lease_seconds of its death, and not before: the
 * leases it renewed while alive keep counting until they expire.
 */
const LEASE_S = 1.2;
const MAX = 3;

describeRedis('redis lease recovery after SIGKILL', () => {
  const prefix = uniquePrefix('lease');
  const limiters = { slots: { store: 'r', maxConcurrent: MAX, leaseSeconds: LEASE_S } };
  let rs: RateSync;
  let child: JsonChild | undefined;

  beforeAll(async () => {
    rs = new RateSync(
      { stores: { r: { engine: 'redis', url: redisUrl(), keyPrefix: prefix } }, limiters },
      { logger: { log: () => undefined, warn: () => undefined, error: () => undefined } },
    );
    await rs.connect();
  });
  afterAll(async () => {
    await child?.stop('SIGKILL');
    await rs.close();
  });

  it('frees the slots of a killed holder within lease_seconds, and not before', async () => {
    const core = buildCore();
    child = new JsonChild(join(__dirname, 'children/load-worker.js'), [
      core,
      JSON.stringify({ url: redisUrl(), prefix, limiters }),
    ]);
    await child.next(); // ready
    child.send({ hold: 'slots', count: MAX });
    expect(await child.next()).toMatchObject({ held: MAX });

    // Alive, the holder renews every lease/3: its slots outlive the first lease period.
    await new Promise((r) => setTimeout(r, LEASE_S * 1000 * 1.25));
    expect(await rs.tryAcquire('slots')).toBeNull();

    await child.stop('SIGKILL');
    const killedAt = Date.now();
    const probe = await rs.check('slots', { consume: false });
    expect(probe.allowed).toBe(false);
    expect(probe.blockedBy).toBe('concurrency');
    // The earliest lease ends within lease_seconds of the kill (it was renewed before it).
    const expiresAt = killedAt + probe.retryAfterMs;
    expect(probe.retryAfterMs).toBeLessThanOrEqual(LEASE_S * 1000);
    expect(probe.retryAfterMs).toBeGreaterThan(0);

    // Not before: 100 ms ahead of the expiry every slot is still taken.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - 100 - Date.now())));
    expect(await rs.tryAcquire('slots')).toBeNull();

    // Within lease_seconds: all slots are back (all leases were renewed together).
    await new Promise((r) =>
      setTimeout(r, Math.max(0, killedAt + LEASE_S * 1000 + 50 - Date.now())),
    );
    const permits = await Promise.all(Array.from({ length: MAX }, () => rs.tryAcquire('slots')));
    const back = permits.filter((p) => p !== null).length;
    console.log(
      `lease recovery: killed at +0 ms, first slot due at +${probe.retryAfterMs.toFixed(0)} ms, ` +
        `${back}/${MAX} slots back by +${Date.now() - killedAt} ms (lease ${LEASE_S * 1000} ms)`,
    );
    expect(back).toBe(MAX);
    await Promise.all(permits.map((p) => p?.release()));
  });
});
