'use strict';
/**
 * A child process of the fault suite: a RateSync over a Redis that the parent stops, freezes
 * and restarts. It counts unhandled rejections itself (a plain Node process, as in
 * production) and reports what every call returned and how long it took.
 *
 * argv[2]: the compiled core directory; argv[3]: JSON { url, socketTimeout }.
 * Commands: { load: durationMs, inflight } and { exact: tries }, then { exit: true }.
 */
const readline = require('node:readline');
const { RateSync, StoreUnavailableError } = require(process.argv[2]);
const { url, socketTimeout } = JSON.parse(process.argv[3]);

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);
const logs = [];
const logger = { log: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const tick = () => new Promise((r) => setTimeout(r, 2));

const limiters = {
  open: { store: 'r', ratePerSecond: 100000, burst: 100000 },
  closed: { store: 'r', ratePerSecond: 100000, burst: 100000, failClosed: true },
  exact: { store: 'r', algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
};

async function load(rs, durationMs, inflight) {
  const end = Date.now() + durationMs;
  const outcomes = {};
  const first = {};
  const last = {};
  let maxMs = 0;
  const note = (o, t0) => {
    const t1 = Date.now();
    outcomes[o] = (outcomes[o] || 0) + 1;
    if (first[o] === undefined) first[o] = t1;
    last[o] = t1;
    maxMs = Math.max(maxMs, t1 - t0);
  };
  const loop = async (n) => {
    const id = n % 2 ? 'open' : 'closed';
    while (Date.now() < end) {
      const t0 = Date.now();
      try {
        const r = await rs.check(id);
        note(r.failedOpen ? `${id}:failedOpen` : r.allowed ? `${id}:ok` : `${id}:rejected`, t0);
      } catch (err) {
        note(
          err instanceof StoreUnavailableError ? `${id}:unavailable` : `${id}:other ${err.message}`,
          t0,
        );
      }
      await tick();
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, n) => loop(n)));
  return { outcomes, first, last, maxMs };
}

async function main() {
  const rs = new RateSync(
    {
      stores: { r: { engine: 'redis', url, socketTimeout, socketConnectTimeout: socketTimeout } },
      limiters,
    },
    { logger },
  );
  await rs.connect();
  send({ ready: true });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line);
    if (cmd.exit) break;
    if (cmd.load) send(await load(rs, cmd.load, cmd.inflight));
    if (cmd.exact) {
      await rs.reset('exact');
      let allowed = 0;
      let failedOpen = 0;
      for (let i = 0; i < cmd.exact; i++) {
        const r = await rs.check('exact');
        if (r.failedOpen) failedOpen++;
        else if (r.allowed) allowed++;
      }
      send({ allowed, failedOpen });
    }
  }
  await rs.close();
  send({ unhandled, logs });
}

main().catch((err) => {
  send({ error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
