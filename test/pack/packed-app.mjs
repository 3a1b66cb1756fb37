// Shared by test/pack/run.mjs (Nest 11) and test/nest12/run.mjs (Nest 12): build the package,
// `npm pack` it, and install the tarball into an application directory outside the
// repository, next to the Nest version under test. The install is cached under os.tmpdir(),
// keyed by the dependency set (and the Node major), so a second run only swaps the tarball in
// (one short `npm install`), or does nothing when the tarball did not change.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command, inheriting stderr; returns stdout. Throws with the output on failure. */
export function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      ...options,
    });
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${err.status}):\n${out}`);
  }
}

/** Times one step and logs it. */
export async function step(label, fn) {
  const started = Date.now();
  process.stdout.write(`- ${label} ... `);
  try {
    const value = await fn();
    console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return value;
  } catch (err) {
    console.log('FAILED');
    throw err;
  }
}

/** Whether the caller asked to reuse dist/ as built (`--no-build` or RATE_SYNC_SKIP_BUILD=1). */
export const skipBuild =
  process.argv.includes('--no-build') || process.env.RATE_SYNC_SKIP_BUILD === '1';

/**
 * `npm run build` (unless {@link skipBuild}) and `npm pack` into a temp dir.
 * @returns the tarball's path and the sha256 of its content
 */
export function buildAndPack() {
  if (!skipBuild) run(npm, ['run', 'build'], { cwd: repoRoot });
  if (!existsSync(join(repoRoot, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` first');
  }
  const dest = join(tmpdir(), `rate-sync-pack-${process.pid}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const [info] = JSON.parse(
    run(npm, ['pack', '--json', '--pack-destination', dest], { cwd: repoRoot }),
  );
  const tarball = join(dest, info.filename);
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  return {
    tarball,
    sha,
    files: info.files.map((f) => f.path),
    cleanup: () => rmSync(dest, { recursive: true, force: true }),
  };
}

/**
 * An application directory with `dependencies` and the tarball installed.
 *
 * @param name a short name for the cache directory (`nest11`, `nest12`)
 * @param packageJson the app's package.json without the `@rate-sync/nestjs` dependency
 * @param packed what {@link buildAndPack} returned
 * @returns the app directory (under os.tmpdir(), reused between runs)
 */
export function installApp(name, packageJson, packed) {
  const key = createHash('sha256')
    .update(JSON.stringify(packageJson))
    .update(`node${process.versions.node.split('.')[0]}`)
    .digest('hex')
    .slice(0, 12);
  const appDir = join(process.env.RATE_SYNC_APP_CACHE ?? tmpdir(), `rate-sync-${name}-${key}`);
  mkdirSync(appDir, { recursive: true });
  const marker = join(appDir, '.installed-tarball');
  const installed = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
  const tgzName = `rate-sync-nestjs-${packed.sha.slice(0, 12)}.tgz`;
  if (installed === packed.sha && existsSync(join(appDir, 'node_modules/@rate-sync/nestjs'))) {
    return { appDir, cached: 'hit' };
  }
  for (const old of readdirSync(appDir).filter((f) => f.endsWith('.tgz'))) {
    rmSync(join(appDir, old));
  }
  cpSync(packed.tarball, join(appDir, tgzName));
  const pkg = {
    ...packageJson,
    dependencies: { ...packageJson.dependencies, '@rate-sync/nestjs': `file:./${tgzName}` },
  };
  writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  rmSync(marker, { force: true });
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: appDir,
  });
  writeFileSync(marker, packed.sha);
  return { appDir, cached: installed ? 'tarball swapped' : 'fresh install' };
}

/**
 * Copies a directory of app sources (TypeScript and tsconfig files) into the app dir. dist/
 * and the tsc build info stay: tsc's incremental mode re-emits only what changed.
 */
export function copySources(fromDir, appDir) {
  rmSync(join(appDir, 'src'), { recursive: true, force: true });
  cpSync(fromDir, appDir, { recursive: true });
}

/** Every .d.ts module reachable from `entry` through relative imports and re-exports. */
export function reachableDeclarations(entry) {
  const seen = new Set();
  const bare = new Map(); // module specifier -> first file importing it
  const queue = [entry];
  const specifier = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(specifier)) {
      if (spec.startsWith('.')) {
        const base = resolve(dirname(file), spec);
        const candidates = [
          `${base}.d.ts`,
          join(base, 'index.d.ts'),
          base.replace(/\.js$/, '.d.ts'),
        ];
        const hit = candidates.find((c) => existsSync(c));
        if (hit) queue.push(hit);
        else throw new Error(`${file}: cannot resolve ${spec}`);
      } else if (!bare.has(spec)) {
        bare.set(spec, file);
      }
    }
  }
  return { files: [...seen], bare };
}
