#!/usr/bin/env node
// The packed package, as a user installs it, next to Nest 11: `npm run build`, `npm pack`,
// install the tarball into an app outside the repository (no ioredis, no pg), compile the
// app against the package's types (strict, decorators, skipLibCheck false, with `nodenext`
// and with classic `node10` resolution), check that the published .d.ts reach neither
// `ioredis` nor `pg`, then run the app: boot, 429 with headers, LimiterService, a limited
// provider method, clean shutdown. Then the drivers: for the oldest ioredis 5 and pg 8 the peer
// ranges allow, and for ioredis 6, install the tarball next to that driver (npm must accept the
// peer range) and run test/pack/driver-app/driver-main.mjs on a store of its engine
// (REDIS_URL / DATABASE_URL, defaults on 127.0.0.1).
//
//   node test/pack/run.mjs           (needs the npm registry on the first run; cached after)
//   ... --no-build                   reuse dist/ as built (or RATE_SYNC_SKIP_BUILD=1)
import { copyFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  buildAndPack,
  skipBuild,
  copySources,
  installApp,
  reachableDeclarations,
  repoRoot,
  run,
  step,
  tsc,
} from './packed-app.mjs';

const APP = {
  name: 'rate-sync-pack-nest11-app',
  private: true,
  dependencies: {
    '@nestjs/common': '^11.0.0',
    '@nestjs/core': '^11.0.0',
    '@nestjs/platform-express': '^11.0.0',
    'reflect-metadata': '^0.2.0',
    rxjs: '^7.8.0',
    '@types/node': '^20.0.0',
  },
};

/**
 * The driver versions the Redis and PostgreSQL parts run on: the oldest each peer range allows,
 * and the newest major (jest runs the newest ioredis 5 and pg 8, the dev dependencies).
 */
const DRIVER_APPS = [
  { engine: 'redis', driver: 'ioredis', version: '5.3.0' },
  { engine: 'redis', driver: 'ioredis', version: '^6.0.0' },
  { engine: 'postgres', driver: 'pg', version: '8.7.0' },
];
const STORE_URLS = {
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  postgres: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Whether a TCP connection to the server of `url` opens within 2 s. */
function reachable(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const host = hostname.replace(/^\[|\]$/g, '');
    const socket = connect({ host, port: Number(port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const started = Date.now();
console.log('packed package + Nest 11 (an app outside the repository)');
let packed;
try {
  packed = await step(skipBuild ? 'npm pack (dist/ as built)' : 'npm run build && npm pack', () =>
    buildAndPack(),
  );
  await step('published files: dist .js + .d.ts, no specs, no sources', () => {
    const bad = packed.files.filter((f) => /\.spec\.(js|d\.ts)$|^lib\/|^test\/|^sample\//.test(f));
    if (bad.length) throw new Error(`unexpected files in the tarball:\n  ${bad.join('\n  ')}`);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'package.json', 'LICENSE']) {
      if (!packed.files.includes(f)) throw new Error(`${f} is not in the tarball`);
    }
  });
  await step('dist/index.d.ts reaches neither ioredis nor pg types', () => {
    const { files, bare } = reachableDeclarations(join(repoRoot, 'dist/index.d.ts'));
    const drivers = [...bare].filter(([spec]) => /^(ioredis|pg|@types\/pg)(\/|$)/.test(spec));
    if (drivers.length) {
      throw new Error(drivers.map(([spec, file]) => `${file} imports '${spec}'`).join('\n'));
    }
    return files.length;
  });
  const { appDir, cached } = await step('install the tarball with Nest 11 (cached)', () =>
    installApp('nest11', APP, packed),
  );
  console.log(`  app: ${appDir} (${cached})`);
  await step('the optional drivers were not installed', () => {
    for (const driver of ['ioredis', 'pg']) {
      if (existsSync(join(appDir, 'node_modules', driver))) {
        throw new Error(`${driver} got installed: it must stay an optional peer`);
      }
    }
  });
  copySources(join(repoRoot, 'test/pack/app'), appDir);
  await step('tsc (nodenext, strict, skipLibCheck false)', () =>
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: appDir }),
  );
  await step('tsc (commonjs + node10 resolution, strict, skipLibCheck false)', () =>
    run(process.execPath, [tsc, '-p', 'tsconfig.node10.json'], { cwd: appDir }),
  );
  const out = await step('run the app (boot, 429, service, provider method, shutdown)', () =>
    run(process.execPath, ['dist/main.js'], { cwd: appDir, timeout: 30_000 }),
  );
  console.log(out.trimEnd());
  for (const { engine, driver, version } of DRIVER_APPS) {
    const url = STORE_URLS[engine];
    if (!(await reachable(url, engine === 'redis' ? 6379 : 5432))) {
      const what = `${engine} is not reachable at ${new URL(url).host}`;
      if (IN_CI) throw new Error(`${what}, and CI is set`);
      console.log(`*** SKIPPING ${driver} ${version}: ${what} ***`);
      continue;
    }
    const app = { ...APP, dependencies: { ...APP.dependencies, [driver]: version } };
    const installed = await step(`install the tarball next to ${driver} ${version} (cached)`, () =>
      installApp(`nest11-${driver}-${version.replace(/[^0-9.]/g, '')}`, app, packed),
    );
    copyFileSync(
      join(repoRoot, 'test/pack/driver-app/driver-main.mjs'),
      join(installed.appDir, 'driver-main.mjs'),
    );
    const out = await step(`a ${engine} store on ${driver} ${version}`, () =>
      run(process.execPath, ['driver-main.mjs', engine], {
        cwd: installed.appDir,
        timeout: 30_000,
        env: { ...process.env, STORE_URL: url },
      }),
    );
    console.log(out.trimEnd());
  }
  console.log(`PASS packed package on Nest 11 in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  console.error(`FAIL packed package on Nest 11`);
  process.exitCode = 1;
} finally {
  packed?.cleanup();
}
