import { join } from 'node:path';
import { describeRedisBinaries } from '../support/redis';
import { buildCore } from './build-core';
import { JsonChild } from './child';
import { RedisServer, sparePort } from './redis-server';

/**
 * DESIGN 6 on a real outage: a Redis owned by the test is killed, restarted, then frozen and
 * thawed while a child process keeps 16 decisions in flight through RateSync. Fail-open
 * limiters admit (and warn), fail-closed ones throw StoreUnavailableError, no call lasts much
 * longer than the command timeout, nothing is left unhandled, no log line holds the password,
 * and decisions are exact again within seconds of the restart.
 */
const SOCKET_TIMEOUT_S = 0.3;
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Load = {
  outcomes: Record<string, number>;
  first: Record<string, number>;
  last: Record<string, number>;
  maxMs: number;
};

describeRedisBinaries('redis faults: stop, restart, freeze', () => {
  let server: RedisServer;
  let child: JsonChild;

  beforeAll(async () => {
    server = new RedisServer(await sparePort(16400, 16500), ['--requirepass', PASSWORD]);
    await server.start();
    const url = `redis://:${PASSWORD}@127.0.0.1:${server.port}`;
    child = new JsonChild(join(__dirname, 'children/fault-worker.js'), [
      buildCore(),
      JSON.stringify({ url, socketTimeout: SOCKET_TIMEOUT_S }),
    ]);
    await child.next();
  }, 30_000);

  afterAll(async () => {
    await child?.stop('SIGKILL');
    await server?.dispose();
  });

  it('fails fast and exactly as configured, then recovers', async () => {
    child.send({ load: 7000, inflight: 16 });
    await sleep(500);
    await server.stop('SIGKILL');
    const downAt = Date.now();
    await sleep(1000);
    await server.start();
    const upAt = Date.now();
    await sleep(2500);
    server.pause(true);
    const frozenAt = Date.now();
    await sleep(800);
    server.pause(false);
    const load = await child.next<Load>();
    console.log(
      `faults: outcomes ${JSON.stringify(load.outcomes)}, slowest call ${load.maxMs} ms (timeout ${SOCKET_TIMEOUT_S * 1000} ms)`,
    );
    console.log(
      `faults: first fail-open ${load.first['open:failedOpen'] - downAt} ms after the kill, ` +
        `frozen at +${frozenAt - upAt} ms after the restart`,
    );

    const otherErrors = Object.keys(load.outcomes).filter((o) => o.includes(':other'));
    expect(otherErrors).toEqual([]);
    expect(load.outcomes['open:failedOpen']).toBeGreaterThan(0);
    expect(load.outcomes['closed:unavailable']).toBeGreaterThan(0);
    expect(load.outcomes['open:rejected'] ?? 0).toBe(0);
    // Prompt: no call waited much beyond the command timeout (slack for a shared 2-core box).
    expect(load.maxMs).toBeLessThan(SOCKET_TIMEOUT_S * 1000 + 400);
    // Counting again after the restart (and after the thaw).
    expect(load.last['open:ok']).toBeGreaterThan(upAt);
    expect(load.last['closed:ok']).toBeGreaterThan(frozenAt + 800);

    child.send({ exact: 10 });
    expect(await child.next()).toEqual({ allowed: 5, failedOpen: 0 });

    child.send({ exit: true });
    const end = await child.next<{ unhandled: number; logs: string[] }>();
    expect(end.unhandled).toBe(0);
    expect(end.logs.length).toBeGreaterThan(0);
    expect(end.logs.filter((l) => l.includes(PASSWORD))).toEqual([]);
    console.log(
      `faults: ${end.logs.length} log lines, e.g. ${JSON.stringify(end.logs.slice(0, 3))}`,
    );
  }, 30_000);
});
