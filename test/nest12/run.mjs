#!/usr/bin/env node
// The packed package next to Nest 12, outside jest (jest's loader cannot load Nest 12's
// ESM-only packages). `npm run build`, `npm pack`, install the tarball with
// @nestjs/{common,core,platform-express}@^12 into an ESM app outside the repository, compile
// the app against Nest 12's and the package's types (strict, decorators, skipLibCheck false),
// and run it: RateSyncModule.forRoot with inline memory limiters, a @RateLimit route until
// 429 (headers and body), @SkipRateLimit, LimiterService, a limited provider method in `try`
// mode, and a clean shutdown.
//
// The package is CommonJS; on Nest 12 its `require('@nestjs/common')` loads an ES module,
// which Node supports from 20.19 / 22.12 (`process.features.require_module`).
//
//   node test/nest12/run.mjs         (needs the npm registry on the first run; cached after)
//   ... --no-build                   reuse dist/ as built (or RATE_SYNC_SKIP_BUILD=1)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildAndPack,
  skipBuild,
  copySources,
  installApp,
  repoRoot,
  run,
  step,
  tsc,
} from '../pack/packed-app.mjs';

const APP = {
  name: 'rate-sync-nest12-app',
  private: true,
  type: 'module',
  dependencies: {
    '@nestjs/common': '^12.0.0',
    '@nestjs/core': '^12.0.0',
    '@nestjs/platform-express': '^12.0.0',
    'reflect-metadata': '^0.2.0',
    rxjs: '^7.8.0',
    '@types/node': '^20.0.0',
  },
};

/** The optional transport packages, on their Nest 12 majors, in a second app. */
const TRANSPORT_PACKAGES = [
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@nestjs/websockets',
  '@nestjs/platform-ws',
  '@nestjs/microservices',
  '@nestjs/terminus',
];
const TRANSPORTS_APP = {
  ...APP,
  name: 'rate-sync-nest12-transports-app',
  dependencies: {
    ...APP.dependencies,
    '@nestjs/graphql': '^14.0.0',
    '@nestjs/apollo': '^14.0.0',
    '@apollo/server': '^5.0.0',
    '@as-integrations/express5': '^1.0.0',
    graphql: '^16.11.0',
    '@nestjs/websockets': '^12.0.0',
    '@nestjs/platform-ws': '^12.0.0',
    ws: '^8.0.0',
    '@types/ws': '^8.0.0',
    '@nestjs/microservices': '^12.0.0',
    '@nestjs/terminus': '^12.0.0',
  },
};

function installedVersion(appDir, name) {
  return JSON.parse(readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8'))
    .version;
}

const started = Date.now();
console.log(
  `packed package + Nest 12 (an ESM app outside the repository), Node ${process.version}`,
);
let packed;
try {
  if (!process.features.require_module) {
    throw new Error(
      `Node ${process.version} cannot require() ES modules, and Nest 12 is ESM-only: ` +
        `@rate-sync/nestjs (CommonJS) needs Node >= 20.19 or >= 22.12 with Nest 12.`,
    );
  }
  packed = await step(skipBuild ? 'npm pack (dist/ as built)' : 'npm run build && npm pack', () =>
    buildAndPack(),
  );
  const { appDir, cached } = await step('install the tarball with Nest 12 (cached)', () =>
    installApp('nest12', APP, packed),
  );
  const version = (name) =>
    JSON.parse(readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  console.log(
    `  app: ${appDir} (${cached}); @nestjs/common ${version('@nestjs/common')}, ` +
      `@nestjs/core ${version('@nestjs/core')}, @nestjs/platform-express ${version('@nestjs/platform-express')}`,
  );
  await step('Nest 12 is really installed (major 12, ESM-only)', () => {
    const common = JSON.parse(
      readFileSync(join(appDir, 'node_modules/@nestjs/common/package.json'), 'utf8'),
    );
    if (!common.version.startsWith('12.') || common.type !== 'module') {
      throw new Error(
        `expected ESM @nestjs/common 12, got ${common.version} (type ${common.type})`,
      );
    }
  });
  copySources(join(repoRoot, 'test/pack/app'), appDir);
  await step('tsc against Nest 12 types (nodenext ESM, strict, skipLibCheck false)', () =>
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: appDir }),
  );
  const out = await step('run the app (boot, 429, service, provider method, shutdown)', () =>
    run(process.execPath, ['dist/main.js'], { cwd: appDir, timeout: 30_000 }),
  );
  console.log(out.trimEnd());
  const transports = await step(
    'install the transports app (GraphQL/Apollo, WebSockets/ws, microservices/TCP, terminus)',
    () => installApp('nest12-transports', TRANSPORTS_APP, packed),
  );
  console.log(
    `  app: ${transports.appDir} (${transports.cached}); ` +
      TRANSPORT_PACKAGES.map((name) => `${name} ${installedVersion(transports.appDir, name)}`).join(
        ', ',
      ),
  );
  await step('the transport packages are the Nest 12 majors', () => {
    for (const name of TRANSPORT_PACKAGES) {
      const major = Number(installedVersion(transports.appDir, name).split('.')[0]);
      const want = name === '@nestjs/graphql' || name === '@nestjs/apollo' ? 14 : 12;
      if (major !== want) throw new Error(`expected ${name} ${want}.x, got ${major}`);
    }
  });
  copySources(join(repoRoot, 'test/nest12/transports-app'), transports.appDir);
  await step('tsc the transports app against Nest 12 types', () =>
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: transports.appDir }),
  );
  const transportsOut = await step(
    'run it (GraphQL, WebSocket and TCP handlers admit, then reject in their shape; health up)',
    () => run(process.execPath, ['dist/main.js'], { cwd: transports.appDir, timeout: 30_000 }),
  );
  console.log(transportsOut.trimEnd());
  console.log(`PASS packed package on Nest 12 in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  console.error('FAIL packed package on Nest 12');
  process.exitCode = 1;
} finally {
  packed?.cleanup();
}
