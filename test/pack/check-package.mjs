#!/usr/bin/env node
// The packed tarball as the registry would serve it, checked by two linters: Are The Types
// Wrong (`attw`: every entry point's types resolve under node10, node16 CJS/ESM and bundler
// resolution) and `publint` (package.json fields, files, exports). Either one's complaint fails.
//
//   npm run check:package          build, pack to a temp dir, run both
//   ... -- --no-build              reuse dist/ as built (or RATE_SYNC_SKIP_BUILD=1)
import { join } from 'node:path';
import { buildAndPack, repoRoot, run, skipBuild, step } from './packed-app.mjs';

const bin = (name) => join(repoRoot, 'node_modules/.bin', name);

const packed = await step(
  skipBuild ? 'npm pack (dist/ as built)' : 'npm run build && npm pack',
  () => buildAndPack(),
);
try {
  await step('attw (types resolve in every module mode)', () =>
    run(bin('attw'), [packed.tarball, '--format', 'ascii', '--no-emoji', '--no-color']),
  );
  await step('publint --strict (warnings fail too)', () =>
    run(bin('publint'), ['run', packed.tarball, '--strict']),
  );
} finally {
  packed.cleanup();
}
