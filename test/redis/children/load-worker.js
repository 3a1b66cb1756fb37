'use strict';
/**
 * A child process of the cross-process suite: plain JavaScript over the compiled core (see
 * build-core.ts), driven by JSON lines on stdin, answering JSON lines on stdout.
 *
 * argv[2]: the compiled core directory; argv[3]: JSON { url, prefix, limiters, driver? }.
 * Commands: { scenario: 'window' | 'bucket' | 'concurrency', limiter, durationMs, inflight,
 * windowMs?, holdMs?, counterKey? }, { hold: limiter, count } (acquire and never release:
 * the lease suite then kills the process), then { exit: true }.
 */
const readline = require('node:readline');
const Redis = require('ioredis');
const { RateSync } = require(process.argv[2]);
const { url, prefix, limiters, driver } = JSON.parse(process.argv[3]);

const quiet = { log() {}, warn() {}, error() {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

async function windowScenario(rs, cmd, end) {
  // Server admission instants: for an immediate admission without reservations in the log,
  // resetAt is exactly the server's `now` plus the window.
  const admitted = [];
  let rejected = 0;
  const loop = async () => {
    while (Date.now() < end) {
      const r = await rs.check(cmd.limiter, { key: 'k' });
      if (r.allowed) admitted.push(r.resetAt - cmd.windowMs);
      else {
        rejected++;
        await sleep(Math.min(r.retryAfterMs, 3));
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.inflight }, loop));
  return { admitted, rejected };
}

async function bucketScenario(rs, cmd, end) {
  const admitted = [];
  let rejected = 0;
  const loop = async () => {
    while (Date.now() < end) {
      try {
        await rs.acquire(cmd.limiter, { key: 'k', timeout: 0.5 });
        admitted.push(Date.now());
      } catch (err) {
        if (!err.result) throw err;
        rejected++;
        await sleep(Math.min(err.result.retryAfterMs, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.inflight }, loop));
  return { admitted, rejected };
}

async function concurrencyScenario(rs, counter, cmd, end) {
  let admitted = 0;
  let rejected = 0;
  let maxInFlight = 0;
  const loop = async () => {
    while (Date.now() < end) {
      let permit;
      try {
        permit = await rs.acquire(cmd.limiter, { key: 'k', timeout: 2 });
      } catch (err) {
        if (!err.result) throw err;
        rejected++;
        continue;
      }
      admitted++;
      // The true in-flight count, across every process: an atomic counter around the work.
      const n = await counter.incr(cmd.counterKey);
      if (n > maxInFlight) maxInFlight = n;
      await sleep(cmd.holdMs);
      await counter.decr(cmd.counterKey);
      await permit.release();
    }
  };
  await Promise.all(Array.from({ length: cmd.inflight }, loop));
  return { admitted, rejected, maxInFlight };
}

async function main() {
  const rs = new RateSync(
    { stores: { r: { engine: 'redis', url, keyPrefix: prefix, driver } }, limiters },
    { logger: quiet },
  );
  await rs.connect();
  const counter = new Redis(url);
  send({ ready: true });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line);
    if (cmd.exit) break;
    if (cmd.hold) {
      const permits = [];
      for (let i = 0; i < cmd.count; i++) permits.push(await rs.acquire(cmd.hold, { timeout: 0 }));
      send({ held: permits.length, at: Date.now() });
      continue;
    }
    const end = Date.now() + cmd.durationMs;
    const start = Date.now();
    let result;
    if (cmd.scenario === 'window') result = await windowScenario(rs, cmd, end);
    else if (cmd.scenario === 'bucket') result = await bucketScenario(rs, cmd, end);
    else result = await concurrencyScenario(rs, counter, cmd, end);
    send({ scenario: cmd.scenario, start, ...result });
  }
  await rs.close();
  counter.disconnect();
}

main().catch((err) => {
  send({ error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
