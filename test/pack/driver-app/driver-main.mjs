// The packed package on a Redis or PostgreSQL store, with whatever driver version the app
// installed: `node driver-main.mjs redis` or `... postgres`, run by test/pack/run.mjs from the
// app's directory so that every import resolves in the app's node_modules. Plain JavaScript:
// the decorators are called as functions, so no compile step is needed.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LimiterService, RateSyncModule } from '@rate-sync/nestjs';

const engine = process.argv[2];
const require = createRequire(`${process.cwd()}/package.json`);
const driver = engine === 'redis' ? 'ioredis' : 'pg';
const driverVersion = require(`${driver}/package.json`).version;
const url = process.env.STORE_URL;
const unique = `rs_pack_${randomBytes(4).toString('hex')}`;
const store =
  engine === 'redis'
    ? { engine, url, keyPrefix: unique }
    : { engine, url, tableName: unique, unlogged: true };

const checks = [];
const check = (name, ok, detail) => checks.push({ name, ok, detail: JSON.stringify(detail) });

class AppModule {}
Module({
  imports: [
    RateSyncModule.forRoot({
      configFile: false,
      stores: { main: store },
      limiters: {
        window: { store: 'main', algorithm: 'sliding_window', limit: 2, windowSeconds: 60 },
        bucket: { store: 'main', ratePerSecond: 1, burst: 2 },
        jobs: { store: 'main', maxConcurrent: 1 },
      },
    }),
  ],
})(AppModule);

/** Engine-specific checks through the app's own driver, while the store is open. */
async function inspectStore() {
  if (engine === 'redis') {
    const { Redis } = require('ioredis');
    const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await admin.connect();
    try {
      const resp = String(await admin.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes('name=rate-sync:main'))
        .map((line) => /\bresp=(\d)/.exec(line)?.[1] ?? 'unknown');
      check(
        'the store speaks RESP2 whatever the ioredis major',
        resp.length > 0 && resp.every((r) => r === '2' || r === 'unknown'),
        resp,
      );
      const keys = await admin.keys(`${unique}:*`);
      check('the keys carry the store key_prefix', keys.length > 0, keys.length);
      return async () => {
        if (keys.length) await admin.del(...keys);
        admin.disconnect();
      };
    } catch (err) {
      admin.disconnect();
      throw err;
    }
  }
  const { Client } = require('pg');
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${unique}`);
    check('the decisions are rows of the store table', rows[0].n > 0, rows[0]);
  } catch (err) {
    await admin.end();
    throw err;
  }
  return async () => {
    const fns = await admin.query(
      'SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.proname LIKE $1',
      [`${unique}%`],
    );
    for (const { f } of fns.rows) await admin.query(`DROP FUNCTION IF EXISTS ${f}`);
    await admin.query(`DROP TABLE IF EXISTS ${unique} CASCADE`);
    await admin.end();
  };
}

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
let closed = false;
try {
  const limiters = app.get(LimiterService);
  const tries = async (id) => {
    const out = [];
    for (let i = 0; i < 3; i++) out.push((await limiters.tryAcquire(id, { key: 'u1' })) !== null);
    return out;
  };
  const window = await tries('window');
  check(
    'sliding window, limit 2: admit, admit, reject',
    window.join() === 'true,true,false',
    window,
  );
  const bucket = await tries('bucket');
  check('token bucket, burst 2: admit, admit, reject', bucket.join() === 'true,true,false', bucket);

  const held = await limiters.tryAcquire('jobs');
  const second = await limiters.tryAcquire('jobs');
  await held?.release();
  const third = await limiters.tryAcquire('jobs');
  await third?.release();
  check(
    'max_concurrent 1: permit, null, permit after release',
    held !== null && second === null && third !== null,
    { held: !!held, second: !!second, third: !!third },
  );
  const state = await limiters.state('window', 'u1');
  check(
    'state reads the store (remaining 0 of 2)',
    state.limit === 2 && state.remaining === 0,
    state,
  );
  const cleanup = await inspectStore();
  await app.close();
  closed = true;
  await cleanup();
} finally {
  if (!closed) await app.close();
}

for (const c of checks)
  console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : `\n       got ${c.detail}`}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(
  `  ${checks.length - failed}/${checks.length} checks passed on ${driver} ${driverVersion}`,
);
if (failed) process.exitCode = 1;
