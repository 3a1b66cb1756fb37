'use strict';
/**
 * A child process of cross-process.spec.ts: plain JavaScript running the compiled library
 * (RS_LIB) through the RateSync facade, as a real service would. It prints one JSON line per
 * result on stdout.
 *
 * Environment:
 *   RS_LIB         directory of the compiled lib (contains core/index.js)
 *   RS_CONFIG      JSON RateSyncConfig (stores + limiters)
 *   RS_MODE        "load": the three load scenarios in turn; "hold": take two slots of `hold`, then idle
 *   RS_INFLIGHT    acquisitions in flight (load)
 *   RS_DURATION_MS length of each scenario (load)
 *   RS_START_AT    epoch ms at which scenario 0 starts in every child (load), so they overlap
 *   RS_PG_URL      server of the in-flight counter table (load)
 *   RS_COUNTER     quoted name of the counter table: one row (cur, peak) (load)
 */
const path = require('node:path');
const { Pool } = require('pg');
const { RateSync } = require(path.join(process.env.RS_LIB, 'core'));

const config = JSON.parse(process.env.RS_CONFIG);
const inflight = Number(process.env.RS_INFLIGHT || 1);
const durationMs = Number(process.env.RS_DURATION_MS || 1000);
const startAt = Number(process.env.RS_START_AT || Date.now());
const logger = {
  log: () => undefined,
  warn: (m) => process.stderr.write(`warn: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
};

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (t) => sleep(Math.max(0, t - Date.now()));
/** A short random pause after a rejection: yields the event loop, spreads retries. */
const pause = () => sleep(Math.random() * 4);

/** Runs `fn` in `inflight` concurrent loops until `until`. */
function loops(until, fn) {
  return Promise.all(
    Array.from({ length: inflight }, async () => {
      while (Date.now() < until) await fn();
    }),
  );
}

/** Sliding window, no waiting: the store-clock time of each admission is resetAt - window. */
async function slidingWindow(rs, until) {
  const windowMs = config.limiters.sw.windowSeconds * 1000;
  const admitted = [];
  let rejected = 0;
  await loops(until, async () => {
    const permit = await rs.tryAcquire('sw');
    if (permit) admitted.push(permit.result.resetAt - windowMs);
    else {
      rejected++;
      await pause();
    }
  });
  return { admitted, rejected };
}

/** Token bucket with waiting reservations: records when each admitted caller proceeds. */
async function tokenBucket(rs, until) {
  const proceed = [];
  let rejected = 0;
  await loops(until, async () => {
    try {
      await rs.acquire('tb', { timeout: 0.3 });
      proceed.push(Date.now());
    } catch (err) {
      if (err.name !== 'RateLimitExceededError') throw err;
      rejected++;
      await pause();
    }
  });
  return { proceed, rejected };
}

/** max_concurrent: a real in-flight counter, incremented inside each permit's lifetime. */
async function concurrency(rs, until, counter) {
  let done = 0;
  await loops(until, async () => {
    const permit = await rs.acquire('c', { timeout: 30 });
    try {
      await counter.query(
        `UPDATE ${process.env.RS_COUNTER} SET cur = cur + 1, peak = greatest(peak, cur + 1)`,
      );
      await sleep(1 + Math.random() * 4);
      await counter.query(`UPDATE ${process.env.RS_COUNTER} SET cur = cur - 1`);
    } finally {
      await permit.release();
    }
    done++;
  });
  return { done };
}

async function load(rs) {
  const counter = new Pool({ connectionString: process.env.RS_PG_URL, max: 2 });
  const scenarios = [
    ['sw', (until) => slidingWindow(rs, until)],
    ['tb', (until) => tokenBucket(rs, until)],
    ['c', (until) => concurrency(rs, until, counter)],
  ];
  try {
    for (const [i, [name, run]] of scenarios.entries()) {
      const begin = startAt + i * (durationMs + 500);
      await sleepUntil(begin);
      const started = Date.now();
      const result = await run(begin + durationMs);
      emit({ scenario: name, pid: process.pid, started, late: started - begin, ...result });
    }
  } finally {
    await counter.end();
  }
}

async function hold(rs) {
  await rs.acquire('hold');
  await rs.acquire('hold');
  emit({ held: 2, pid: process.pid });
  setInterval(() => undefined, 60_000); // stay alive, renewing the leases, until killed
}

async function main() {
  const rs = new RateSync(config, { logger });
  await rs.connect();
  if (process.env.RS_MODE === 'hold') return hold(rs);
  try {
    await load(rs);
  } finally {
    await rs.close();
  }
}

main().catch((err) => {
  process.stderr.write(`child failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
