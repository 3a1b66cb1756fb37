#!/usr/bin/env node
// Two sample processes on different ports, sharing one Redis or PostgreSQL store, must share
// every limit (issue 2, item 6). For each engine: build the package and the sample, start
// `node sample/dist/main.js` twice with RATE_LIMIT_ENGINE=<engine>, then check across both:
//   - POST /auth/login alternating between the processes: attempts 1-5 answer 401, the 6th
//     (within 300 s, same IP + email) answers 429 with Retry-After;
//   - 3 simultaneous GET /reports/slow spread over both (max_concurrent 2): exactly one 429;
//   - 4 simultaneous GET /partner/quote spread over both (2/s, wait mode): all 200, the i-th
//     admitted ~500 ms * i after the first (50 ms slack: the times are each process's clock
//     after a store round trip, not the store's reservation times).
// and that both processes exit promptly on SIGTERM (stores closed). Each run keeps its state
// apart (RATE_SYNC_CONFIG: the sample's rate-sync.toml plus its own Redis key_prefix or
// PostgreSQL schema_name) and removes it afterwards.
//
//   node test/sample/two-processes.mjs [redis|redis-node|postgres ...]   (default: all; redis-node
//                                  is redis with REDIS_DRIVER=node-redis)
//   REDIS_URL, DATABASE_URL        the servers (defaults: local ones)
//   --no-build                     reuse dist/ as built (or RATE_SYNC_SKIP_BUILD=1); the
//                                  sample is compiled either way
//
// An engine whose code is not built yet, or whose server is unreachable, is SKIPPED with the
// reason (exit 0); under CI=true an unreachable server fails instead.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(repoRoot, 'package.json'));
const CI = process.env.CI === 'true' || process.env.CI === '1';

const ENGINES = {
  redis: {
    env: { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    isolate: (name) => `key_prefix = "${name}"`,
    async cleanup(env, name) {
      const Redis = require('ioredis');
      const client = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      try {
        await client.connect();
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${name}*`, 'COUNT', 1000);
          if (keys.length) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
    async probe(env) {
      const Redis = require('ioredis');
      const client = new Redis(env.REDIS_URL, {
        lazyConnect: true,
        connectTimeout: 2000,
        retryStrategy: null,
        maxRetriesPerRequest: 0,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    },
  },
  postgres: {
    env: { DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    isolate: (name) => `schema_name = "${name}"`,
    async cleanup(env, name) {
      const { Client } = require('pg');
      const client = new Client({ connectionString: env.DATABASE_URL });
      try {
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await client.end().catch(() => {});
      }
    },
    async probe(env) {
      const { Client } = require('pg');
      const client = new Client({
        connectionString: env.DATABASE_URL,
        connectionTimeoutMillis: 2000,
      });
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => {});
      }
    },
  },
};
// The redis run again with the sample's store on node-redis (REDIS_DRIVER).
ENGINES['redis-node'] = {
  ...ENGINES.redis,
  engine: 'redis',
  env: { ...ENGINES.redis.env, REDIS_DRIVER: 'node-redis' },
};

/**
 * The sample's rate-sync.toml with one line added to [stores.main], so that this run's state
 * lives apart from any other's (its own Redis key prefix or PostgreSQL schema): the limits,
 * routes and code under test are the sample's own.
 */
function isolatedConfig(line) {
  const toml = readFileSync(join(repoRoot, 'sample/rate-sync.toml'), 'utf8');
  if (!toml.includes('[stores.main]\n'))
    throw new Error('sample/rate-sync.toml has no [stores.main]');
  const file = join(tmpdir(), `rate-sync-two-processes-${process.pid}.toml`);
  writeFileSync(file, toml.replace('[stores.main]\n', `[stores.main]\n${line}\n`));
  return file;
}

const redact = (url) => url.replace(/\/\/[^@/]*@/, '//***@');

function build() {
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const skip = process.argv.includes('--no-build') || process.env.RATE_SYNC_SKIP_BUILD === '1';
  if (!skip) {
    execFileSync('npm', ['run', 'build'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  execFileSync(process.execPath, [tsc, '-p', 'sample/tsconfig.json'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Starts one sample process; resolves once it listens. */
async function startSample(engine, env) {
  const port = await freePort();
  const child = spawn(process.execPath, ['sample/dist/main.js'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env,
      RATE_LIMIT_ENGINE: engine,
      PORT: String(port),
      HOST: '127.0.0.1',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const deadline = Date.now() + 20_000;
  while (!output.includes('rate-sync sample listening')) {
    const done = await Promise.race([exited, new Promise((r) => setTimeout(r, 50, null))]);
    if (done)
      throw new Error(`sample on port ${port} exited (${JSON.stringify(done)}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sample on port ${port} did not start within 20 s:\n${output}`);
    }
  }
  return {
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    /** SIGTERM, then the ms it took to exit (SIGKILL and throw after 10 s). */
    async stop() {
      const t0 = Date.now();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const { signal } = await exited;
      clearTimeout(timer);
      if (signal === 'SIGKILL')
        throw new Error(`sample ${port} ignored SIGTERM for 10 s:\n${output}`);
      return Date.now() - t0;
    },
  };
}

async function post(base, path, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

async function get(base, path) {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function expect(ok, what, got) {
  if (!ok) throw new Error(`${what}\n  got: ${JSON.stringify(got)}`);
  console.log(`  ok   ${what}`);
}

async function checkShared(a, b, engine) {
  // The sample's /health is a terminus readiness check: { status, info: { rate_sync: ... } }.
  const health = await get(a.base, '/health');
  const store = health.body?.info?.rate_sync?.stores?.[0];
  expect(
    health.status === 200 && store?.engine === engine && store.up === true,
    `the store is ${engine} and up`,
    health.body,
  );

  const email = `two-processes-${randomBytes(4).toString('hex')}@example.com`;
  const login = [];
  for (let i = 0; i < 6; i++)
    login.push(await post([a, b][i % 2].base, '/auth/login', { email, password: 'wrong' }));
  const retryAfter = Number(login[5].headers.get('retry-after'));
  expect(
    login.slice(0, 5).every((r) => r.status === 401) &&
      login[5].status === 429 &&
      retryAfter > 290 &&
      retryAfter <= 300 &&
      login[5].body.limiter === 'login',
    'login alternating A,B,A,B,A,B: 401 x5, then 429 with Retry-After ~300',
    { statuses: login.map((r) => r.status), retryAfter, body: login[5].body },
  );

  const slow = await Promise.all([a, b, a].map((p) => get(p.base, '/reports/slow')));
  const slowStatuses = slow.map((r) => r.status);
  expect(
    slowStatuses.filter((s) => s === 429).length === 1 &&
      slowStatuses.filter((s) => s === 200).length === 2,
    '3 simultaneous /reports/slow on A,B,A (max_concurrent 2): exactly one 429',
    slowStatuses,
  );

  const quotes = await Promise.all([a, b, a, b].map((p) => get(p.base, '/partner/quote')));
  const at = quotes.map((r) => Date.parse(r.body.at)).sort((x, y) => x - y);
  expect(
    quotes.every((r) => r.status === 200) && at.every((t, i) => t - at[0] >= 500 * i - 50),
    '4 simultaneous /partner/quote on A,B,A,B (2/s, wait): all 200, ~500 ms apart',
    { statuses: quotes.map((r) => r.status), offsetsMs: at.map((t) => t - at[0]) },
  );
}

async function runEngine(name) {
  const spec = ENGINES[name];
  const engine = spec.engine ?? name;
  if (!existsSync(join(repoRoot, `dist/core/engines/${engine}/index.js`))) {
    return {
      engine: name,
      status: 'SKIP',
      why: `the ${engine} engine is not built (dist/core/engines/${engine})`,
    };
  }
  try {
    await spec.probe(spec.env);
  } catch (err) {
    const where = redact(Object.values(spec.env)[0]);
    const why = `${engine} is unreachable at ${where}: ${err.message || err.code || err}`;
    return { engine: name, status: CI ? 'FAIL' : 'SKIP', why };
  }
  console.log(`${name} (${redact(Object.values(spec.env)[0])}): two sample processes`);
  const prefix = `rs_sample_${randomBytes(4).toString('hex')}`;
  const config = isolatedConfig(spec.isolate(prefix));
  const env = { ...spec.env, RATE_SYNC_CONFIG: config };
  const started = [];
  try {
    started.push(await startSample(engine, env));
    started.push(await startSample(engine, env));
    console.log(`  A = ${started[0].base}, B = ${started[1].base} (${spec.isolate(prefix)})`);
    await checkShared(started[0], started[1], engine);
    const stops = await Promise.all(started.splice(0).map((p) => p.stop()));
    expect(
      stops.every((ms) => ms < 5000),
      `both processes exit within 5 s of SIGTERM (${stops.join(' ms, ')} ms)`,
      stops,
    );
    return { engine: name, status: 'PASS' };
  } catch (err) {
    for (const p of started) {
      const tail = p.output().trimEnd().split('\n').slice(-15).join('\n');
      console.error(`--- last lines of ${p.base}:\n${tail}`);
    }
    return { engine: name, status: 'FAIL', why: err.message };
  } finally {
    await Promise.all(started.map((p) => p.stop().catch(() => {})));
    await spec.cleanup(spec.env, prefix).catch((err) => console.warn(`  cleanup: ${err.message}`));
    rmSync(config, { force: true });
  }
}

const args = process.argv.slice(2).filter((a) => a !== '--no-build');
const wanted = args.length ? args : Object.keys(ENGINES);
const unknown = wanted.filter((e) => !ENGINES[e]);
if (unknown.length) {
  console.error(
    `unknown engine(s): ${unknown.join(', ')} (known: ${Object.keys(ENGINES).join(', ')})`,
  );
  process.exit(2);
}
const t0 = Date.now();
build();
const results = [];
for (const engine of wanted) results.push(await runEngine(engine));
console.log(`\nsample shared across two processes (${((Date.now() - t0) / 1000).toFixed(1)} s):`);
for (const r of results)
  console.log(`  ${r.status.padEnd(4)} ${r.engine}${r.why ? `: ${r.why}` : ''}`);
if (results.some((r) => r.status === 'FAIL')) process.exitCode = 1;
