'use strict';
/**
 * A child process of the degraded-mode suites (Redis, PostgreSQL): one process of a fleet
 * sharing a store that the parent takes away and brings back. Its limiters are
 * `on_store_failure = "local"`.
 *
 * argv[2]: the compiled core directory; argv[3]: JSON { store, limiters } (the store `r`).
 * Commands: { load: untilEpochMs, inflight } keeps `inflight` decisions in flight on each
 * limiter and answers { admitted: { [limiter]: [[epochMs, degraded, resetAt]...] }, rejected, errors,
 * unhandled, logs }; { exit: true } closes the RateSync and lets the process
 * end by itself (a timer or socket left open would keep it alive).
 */
const readline = require('node:readline');
const { RateSync } = require(process.argv[2]);
const { store, limiters } = JSON.parse(process.argv[3]);

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);
const logs = [];
const logger = { log: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const rs = new RateSync(
  {
    stores: { r: store },
    limiters,
  },
  { logger },
);

async function load(until, inflight) {
  const admitted = Object.fromEntries(Object.keys(limiters).map((id) => [id, []]));
  let rejected = 0;
  let errors = 0;
  const loop = async (id) => {
    while (Date.now() < until) {
      try {
        const r = await rs.check(id);
        if (r.allowed) admitted[id].push([Date.now(), r.degraded ? 1 : 0, r.resetAt]);
        else rejected++;
        await sleep(r.allowed ? 1 : Math.min(Math.max(r.retryAfterMs, 1), 5));
      } catch (err) {
        errors++;
        logs.push(`error: ${err.message}`);
        await sleep(5);
      }
    }
  };
  const ids = Object.keys(limiters).flatMap((id) => Array.from({ length: inflight }, () => id));
  await Promise.all(ids.map(loop));
  return { admitted, rejected, errors, unhandled, logs: logs.splice(0) };
}

rs.connect().then(
  () => send({ ready: true }),
  (err) => send({ error: String(err) }),
);
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.load) send(await load(cmd.load, cmd.inflight));
  if (cmd.exit) {
    rl.close();
    await rs.close();
  }
});
