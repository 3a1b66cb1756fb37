#!/usr/bin/env node
// Type-checks every TypeScript block (```ts / ```typescript) of README.md and docs/**/*.md
// against the BUILT package, as a user importing `@rate-sync/nestjs` gets it: `npm run build`,
// then each block becomes its own module in a temp dir, `@rate-sync/nestjs` resolves to
// dist/index.d.ts, Nest, ioredis and pg to this repository's node_modules, and all of them are
// compiled as one program, as `tsc --noEmit` would, with the project's compiler settings
// (tsconfig.json: strict, experimentalDecorators, emitDecoratorMetadata). Errors are reported
// at the Markdown line:
//
//   docs/nestjs.md:123: error TS2304: Cannot find name 'foo'.
//
// Markers, on the last non-blank line before a block's opening fence:
//   <!-- fragment: <reason> -->   not checked (pseudo code, an intended error); the reason is
//                                 required: a marker without one is an error
//   <!-- continues: <reason> -->  checked appended to the previous TypeScript block of the
//                                 same file (a snippet that uses the declarations above it)
// Prefer complete blocks (imports, declared classes) to markers. A relative import
// (`import { JwtAuthGuard } from './auth/jwt-auth.guard'`) stands for the reader's own code: the
// names it imports are typed `any`.
//
// Every run also proves that it can fail: the blocks of test/docs/fixtures/*.md are checked in
// the same compilation, and their failures must be exactly those that
// test/docs/fixtures/expected-failures.txt lists (a type error, a marker without a reason...).
//
//   node test/docs/check-docs.mjs            build, then check
//   ... --no-build                           reuse dist/ as built (or RATE_SYNC_SKIP_BUILD=1)
//   ... FILE.md ...                          check only these files (paths from the repo root)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ts = createRequire(join(repoRoot, 'package.json'))('typescript');
const fixturesDir = join(repoRoot, 'test/docs/fixtures');
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const TS_LANGS = new Set(['ts', 'typescript']);
const MARKER = /^\s*<!--\s*(fragment|continues)\b\s*(?::\s*(.*?))?\s*-->\s*$/;

/**
 * The TypeScript blocks of one Markdown text.
 * @returns `blocks` (each with `line`, the 1-based line of its first code line, `lines`, and its
 *   marker) and `problems` (malformed markers) as `{ line, message }`
 */
export function extractBlocks(text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  const problems = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let end = i + 1;
    while (end < lines.length && !closes(lines[end], fence)) end++;
    if (TS_LANGS.has(lang)) {
      let m = i - 1; // the marker: the last non-blank line before the fence
      while (m >= 0 && !lines[m].trim()) m--;
      const marker = m >= 0 ? MARKER.exec(lines[m]) : null;
      const kind = marker?.[1];
      const reason = marker?.[2] ?? '';
      if (kind === 'fragment' && !reason) {
        problems.push({
          line: m + 1,
          message: 'a fragment marker needs its reason: <!-- fragment: why it is not checked -->',
        });
      }
      blocks.push({
        line: i + 2,
        lines: lines
          .slice(i + 1, end)
          .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)),
        kind,
        reason,
      });
    }
    i = end;
  }
  return { blocks, problems };
}

function closes(line, fence) {
  const trimmed = line.trim();
  return trimmed.startsWith(fence) && /^[`~]+$/.test(trimmed);
}

/**
 * Groups the checked blocks of one file into compilation units: a `continues` block is appended
 * to the unit of the previous block. Each unit maps its lines back to Markdown lines.
 */
export function units(file, blocks, problems) {
  const out = [];
  for (const block of blocks) {
    if (block.kind === 'fragment') continue;
    if (block.kind === 'continues') {
      const previous = out[out.length - 1];
      if (!previous) {
        problems.push({ line: block.line - 1, message: 'continues: no TypeScript block above it' });
        continue;
      }
      previous.lines.push(...block.lines);
      previous.mdLines.push(...block.lines.map((_, j) => block.line + j));
      continue;
    }
    out.push({
      file,
      lines: [...block.lines],
      mdLines: block.lines.map((_, j) => block.line + j),
    });
  }
  return out;
}

/** README.md and every docs/**\/*.md, relative to the repository root. */
function docFiles() {
  const found = ['README.md'];
  const walk = (dir) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

/** The generated tsconfig: the project's compiler settings, the built package, these units. */
function tsconfig(dir, files) {
  const project = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8'));
  const nodeModules = join(repoRoot, 'node_modules');
  return {
    compilerOptions: {
      ...project.compilerOptions,
      noEmit: true,
      declaration: false,
      sourceMap: false,
      outDir: undefined,
      rootDir: undefined,
      types: ['node', 'jest'], // docs/testing.md shows a jest spec
      typeRoots: [join(nodeModules, '@types')],
      baseUrl: dir,
      paths: {
        '@rate-sync/nestjs': [join(repoRoot, 'dist/index.d.ts')],
        '*': [join(nodeModules, '*'), join(nodeModules, '@types/*')],
      },
    },
    files,
  };
}

/**
 * A relative import (`./auth/jwt-auth.guard`) stands for the reader's own application code:
 * each name it imports becomes an `any` value and type in a stub beside the block.
 */
function stubRelativeImports(unitDir, code) {
  const IMPORT =
    /import\s+(?:type\s+)?(\w+)?\s*,?\s*(?:\{([^}]*)\})?\s*from\s*['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const [, defaultName, named = '', specifier] of code.matchAll(IMPORT)) {
    const names = named
      .split(',')
      .map((n) =>
        n
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)[0]
          .trim(),
      )
      .filter(Boolean);
    const lines = names.map((n) => `export declare const ${n}: any;\nexport type ${n} = any;`);
    if (defaultName) lines.push('declare const value: any;\nexport default value;');
    const stub = join(unitDir, `${specifier}.d.ts`);
    mkdirSync(dirname(stub), { recursive: true });
    writeFileSync(stub, `${lines.join('\n')}\n`);
  }
}

/**
 * Writes every unit to `dir` and compiles them in one program (what `tsc -p dir --noEmit`
 * does, through the compiler API so that a syntax error in one block does not hide the type
 * errors of the others). Returns the diagnostics at Markdown lines: `[{ unit, line, text }]`,
 * `unit` undefined for a diagnostic outside the blocks.
 */
function typeCheck(dir, allUnits) {
  const byFile = new Map();
  for (const [i, u] of allUnits.entries()) {
    const unitDir = join(dir, `block-${String(i).padStart(3, '0')}`);
    mkdirSync(unitDir);
    const path = join(unitDir, 'block.ts');
    const code = u.lines.join('\n');
    // `export {}` makes every block a module, so blocks do not share a global scope.
    writeFileSync(path, `${code}\nexport {};\n`);
    stubRelativeImports(unitDir, code);
    byFile.set(path, u);
  }
  const configPath = join(dir, 'tsconfig.json');
  writeFileSync(configPath, JSON.stringify(tsconfig(dir, [...byFile.keys()]), null, 2));
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const found = [
    ...parsed.errors,
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
  ];
  for (const path of byFile.keys()) {
    const source = program.getSourceFile(path);
    found.push(
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    );
  }
  return found.map((d) => {
    const text = `error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`;
    const unit = d.file && byFile.get(resolve(d.file.fileName));
    if (!unit) {
      const where = d.file
        ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: `
        : '';
      return { unit: undefined, line: 0, text: `${where}${text}` };
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    return { unit, line: unit.mdLines[line] ?? unit.mdLines[unit.mdLines.length - 1], text };
  });
}

function collect(files) {
  const problems = [];
  const all = [];
  for (const file of files) {
    const { blocks, problems: own } = extractBlocks(readFileSync(join(repoRoot, file), 'utf8'));
    all.push(...units(file, blocks, own));
    problems.push(...own.map((p) => `${file}:${p.line}: error ${p.message}`));
  }
  return { problems, units: all };
}

/** The failures of a set of files: marker problems, then tsc's errors at Markdown lines. */
function evaluate(set, diagnostics) {
  const failures = [...set.problems];
  for (const d of diagnostics) {
    if (set.units.includes(d.unit)) failures.push(`${d.unit.file}:${d.line}: ${d.text}`);
  }
  return failures;
}

/**
 * Proves the check can fail: the fixtures' failures must be exactly those listed in
 * fixtures/expected-failures.txt (each line a prefix, `file:line: error TSxxxx`), in order.
 */
function selfCheck(failures) {
  const expected = readFileSync(join(fixturesDir, 'expected-failures.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
  const ok =
    failures.length === expected.length && expected.every((e, i) => failures[i].startsWith(e));
  if (ok) return [];
  return [
    'self-check: the fixtures did not fail as expected',
    `  expected (prefixes):\n    ${expected.join('\n    ')}`,
    `  got:\n    ${failures.join('\n    ') || '(nothing)'}`,
  ];
}

function main() {
  const skipBuild = process.argv.includes('--no-build') || process.env.RATE_SYNC_SKIP_BUILD === '1';
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (!skipBuild) {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  if (!existsSync(join(repoRoot, 'dist/index.d.ts'))) {
    throw new Error('dist/index.d.ts is missing: run `npm run build` first');
  }
  const docs = collect(only.length ? only : docFiles());
  const fixtures = collect(
    readdirSync(fixturesDir)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => relative(repoRoot, join(fixturesDir, f))),
  );

  const dir = mkdtempSync(join(tmpdir(), 'rate-sync-docs-'));
  let diagnostics;
  try {
    diagnostics = typeCheck(dir, [...docs.units, ...fixtures.units]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const failures = [
    ...diagnostics.filter((d) => !d.unit).map((d) => `tsc: ${d.text}`),
    ...evaluate(docs, diagnostics),
    ...selfCheck(evaluate(fixtures, diagnostics)),
  ];
  const checked = docs.units.length;
  if (failures.length) {
    console.error(failures.join('\n'));
    console.error(`FAIL docs: ${failures.length} problem(s) in ${checked} TypeScript block(s)`);
    process.exitCode = 1;
  } else {
    console.log(
      `PASS docs: ${checked} TypeScript block(s) type-check against dist/ ` +
        `(and the fixtures' broken blocks are rejected)`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
