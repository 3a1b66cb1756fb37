import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '../..');
const CORE = join(ROOT, 'lib/core');

/**
 * Compiles `lib/core` to plain CommonJS for child processes (which run without ts-jest):
 * `transpileModule` per file, no type check (tsc does that elsewhere), well under a second.
 * The output is cached under the repo's (git-ignored) `.tmp/`, where `node_modules` resolves, by
 * a hash of the sources, and published by an
 * atomic rename so that suites building at once in parallel workers do not collide.
 * Returns the directory that holds `index.js` (require `<dir>/engines/redis` etc.).
 */
export function buildCore(): string {
  const files = listTs(CORE);
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(f));
  const out = join(ROOT, '.tmp', `core-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(out, 'index.js'))) return out;
  const staging = `${out}.${process.pid}.${Date.now()}`;
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(f, 'utf8'), {
      fileName: f,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    }).outputText;
    const target = join(staging, relative(CORE, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  try {
    renameSync(staging, out);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another worker published it first
  }
  return out;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [p] : [];
  });
}
