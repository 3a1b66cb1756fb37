/**
 * Config fuzzing: the sample's rate-sync.toml and the test fixtures, mutated (values of every
 * type, keys deleted, renamed, added, values wrapped in tables or arrays, tables flattened)
 * and garbled as text, must never crash the loader: it returns a configuration or throws a
 * ConfigValidationError whose every problem names its path (and file and line in the file).
 * What loads must build a RateSync; a bad clone() leaves the registry as it was.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'smol-toml';
import { RateSync, type LimiterOptions } from '../../lib/core';
import { loadConfig } from '../../lib/core/config';
import type { EngineContext } from '../../lib/core/engines/engine-context';
import { MemoryEngine } from '../../lib/core/engines/memory';
import { ConfigValidationError, type ConfigProblem } from '../../lib/core/errors';
import { RateSyncError } from '../../lib/core/errors/rate-sync.error';
import { toPolicy } from '../../lib/core/policy';
import { propertyParams, propertyTimeout } from './settings';

const ROOT = resolve(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/config/python');
const SEEDS = [
  join(ROOT, 'sample/rate-sync.toml'),
  ...readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.toml'))
    .sort()
    .map((f) => join(FIXTURES, f)),
].map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** The variables the seeds read, so that every seed loads before it is mutated. */
const ENV = {
  REDIS_URL: 'redis://127.0.0.1:6390/0',
  DATABASE_URL: 'postgres://u@127.0.0.1:5439/db',
};
const memoryEngine = (ctx: EngineContext): MemoryEngine => new MemoryEngine({ clock: ctx.clock });
const SILENT = { log: () => undefined, warn: () => undefined, error: () => undefined };

type Doc = Record<string, unknown>;
type Path = readonly string[];

/** Keys the loader knows (so renames land on real fields), their camelCase, and hostile ones. */
const KEY_NAMES = [
  'engine',
  'url',
  'store',
  'algorithm',
  'rate_per_second',
  'ratePerSecond',
  'burst',
  'limit',
  'window_seconds',
  'max_concurrent',
  'lease_seconds',
  'timeout',
  'on_failure',
  'key_prefix',
  'schema_name',
  'table_name',
  'stores',
  'limiters',
  'main',
  'api',
  'RATE_PER_SECOND',
  'rate-per-second',
  '',
  ' ',
  'a.b',
  'tenant:acme',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '${REDIS_URL}',
];

/** Values of every TOML type, and the edges of each: what a hand-edited file may hold. */
const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 4, arbitrary: tie('scalar') },
    { weight: 1, arbitrary: fc.array(tie('scalar'), { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...KEY_NAMES), tie('scalar'), { maxKeys: 3 }),
    },
  ),
  scalar: fc.oneof(
    fc.integer({ min: -5, max: 100 }),
    fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e21),
    fc.double({ noDefaultInfinity: false }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-9, 0.5),
    fc.boolean(),
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
      '',
      '10',
      '1.5',
      'memory',
      'redis',
      'postgres',
      'token_bucket',
      'sliding_window',
      'fail_open',
      'fail_closed',
      '${RATE_LIMIT_ENGINE:-memory}',
      '${REDIS_URL}',
      '${UNSET_VAR}',
      '${',
      '$${x}',
      'redis://[::1',
      'postgres://user:secret@127.0.0.1:1/db',
      '10.0.0.0/8',
      '__proto__',
    ),
    fc.date({ noInvalidDate: true }),
  ),
})).value;

interface Mutation {
  readonly kind: 'set' | 'delete' | 'rename' | 'add' | 'wrap' | 'flatten';
  readonly at: number;
  readonly value: unknown;
  readonly key: string;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'set', 'delete', 'rename', 'add', 'wrap', 'flatten'),
  at: fc.nat(),
  value: valueArb,
  key: fc.oneof(fc.constantFrom(...KEY_NAMES), fc.string({ maxLength: 8 })),
});

interface TextEdit {
  readonly at: number;
  readonly remove: number;
  readonly insert: string;
}

const textEditArb: fc.Arbitrary<TextEdit> = fc.record({
  at: fc.nat(),
  remove: fc.nat(6),
  insert: fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('\n', '[', ']', '"', '=', '[[x]]\n', '\n[stores]\n', ' = 1\n', '"""', '\\u'),
  ),
});

/** A case: a seed, structured mutations, then (sometimes) edits of the TOML text. */
interface Case {
  readonly seed: number;
  readonly mutations: readonly Mutation[];
  readonly edits: readonly TextEdit[];
}
const caseArb: fc.Arbitrary<Case> = fc.record({
  seed: fc.nat(SEEDS.length - 1),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
  edits: fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as TextEdit[]) },
    { weight: 1, arbitrary: fc.array(textEditArb, { minLength: 1, maxLength: 3 }) },
  ),
});

/** Every path of the document: tables and values (arrays of tables count as values). */
function pathsOf(doc: unknown, prefix: Path = []): Path[] {
  if (!isTable(doc)) return [];
  return Object.keys(doc).flatMap((k) => [[...prefix, k], ...pathsOf(doc[k], [...prefix, k])]);
}

function isTable(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Sets an own property (even `__proto__`, which plain assignment would not create). */
function setOwn(table: Doc, key: string, value: unknown): void {
  Object.defineProperty(table, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function mutate(doc: Doc, m: Mutation): void {
  const paths = pathsOf(doc);
  if (!paths.length) return setOwn(doc, m.key, m.value);
  const path = paths[m.at % paths.length];
  const parent = path.slice(0, -1).reduce<Doc>((t, k) => t[k] as Doc, doc);
  const last = path[path.length - 1];
  const current = parent[last];
  switch (m.kind) {
    case 'set':
      return setOwn(parent, last, m.value);
    case 'delete':
      delete parent[last];
      return;
    case 'rename':
      delete parent[last];
      return setOwn(parent, m.key, current);
    case 'add':
      return setOwn(isTable(current) ? current : parent, m.key, m.value);
    case 'wrap':
      return setOwn(parent, last, m.at % 2 ? [current] : { [m.key]: current });
    case 'flatten':
      return setOwn(parent, last, isTable(current) ? (Object.values(current)[0] ?? '') : current);
  }
}

function edit(text: string, e: TextEdit): string {
  const at = e.at % (text.length + 1);
  return text.slice(0, at) + e.insert + text.slice(at + e.remove);
}

/** The TOML text of a case, or undefined when the mutated document has no TOML spelling. */
function render(c: Case): string | undefined {
  const doc = parse(SEEDS[c.seed].text) as Doc;
  for (const m of c.mutations) mutate(doc, m);
  let text: string;
  try {
    text = stringify(doc);
  } catch {
    return undefined; // e.g. an empty key: smol-toml writes no such document
  }
  return c.edits.reduce(edit, text);
}

const SEGMENT = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")`;
const PATH = new RegExp(`^(?:\\((?:file|toml syntax)\\)|${SEGMENT}(?:\\.${SEGMENT})*)$`);

/** A problem names where it is: a path (TOML spelling), the file, a line inside the file. */
function checkProblem(p: ConfigProblem, file: string, lines: number): void {
  expect(typeof p.path).toBe('string');
  expect(p.path.length).toBeGreaterThan(0);
  // Bare keys or quoted ones joined by dots (TOML's spelling), or where the file failed.
  expect(p.path).toMatch(PATH);
  expect(p.path).not.toMatch(/(^|\.)undefined(\.|$)|\[object /);
  expect(p.message.length).toBeGreaterThan(0);
  expect(p.message).not.toMatch(/\[object /);
  expect(p.file).toBe(file);
  if (p.line !== undefined) {
    expect(Number.isInteger(p.line)).toBe(true);
    expect(p.line).toBeGreaterThanOrEqual(1);
    expect(p.line).toBeLessThanOrEqual(lines + 1);
  }
}

/** Cases kept from earlier runs (the shrunk counterexamples), replayed in every run. */
const CONFIG_REGRESSIONS: readonly { readonly name: string; readonly case: Case }[] = [
  {
    // Found by seed 11: a key spelled ".." is quoted in the path (the path is right).
    name: 'a key named ".." is named in its problem as a quoted key',
    case: {
      seed: 0,
      mutations: [
        { kind: 'rename', at: 0, value: '', key: '..' },
        { kind: 'set', at: 0, value: '', key: '' },
      ],
      edits: [],
    },
  },
];

describe('config fuzzing: mutated TOML files never crash the loader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rs-config-fuzz-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every seed loads as it is (the mutations start from valid files)', () => {
    for (const seed of SEEDS) {
      expect(() => loadConfig({ configFile: seed.path, env: ENV })).not.toThrow();
    }
  });

  let n = 0;
  /** Loads one case; returns how it ended, after checking everything the outcome promises. */
  function loadCase(c: Case): 'loaded' | 'rejected' | 'syntax' | 'skipped' {
    const text = render(c);
    if (text === undefined) return 'skipped';
    const file = join(dir, `case-${n++}.toml`);
    writeFileSync(file, text);
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({ configFile: file, env: ENV, cwd: dir });
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      expect(error.problems.length).toBeGreaterThan(0);
      const lines = text.split('\n').length;
      for (const p of error.problems) checkProblem(p, file, lines);
      return error.problems.some((p) => p.path === '(toml syntax)') ? 'syntax' : 'rejected';
    }
    // Loading is deterministic, and what loads is complete: every limiter builds a policy of
    // finite positive numbers, and RateSync takes the configuration as is.
    expect(loadConfig({ configFile: file, env: ENV, cwd: dir })).toEqual(config);
    for (const [id, options] of Object.entries(config.limiters)) {
      expect(Object.keys(config.stores)).toContain(options.store);
      const p = toPolicy(id, options);
      for (const v of [p.gcra?.intervalMs, p.gcra?.burst, p.window?.limit, p.window?.windowMs])
        if (v !== undefined) expect(Number.isFinite(v) && v > 0).toBe(true);
      if (p.concurrency) expect(p.concurrency.max).toBeGreaterThanOrEqual(1);
    }
    // (memory engines stand in for the stores: nothing here connects)
    const rs = new RateSync(config, { logger: SILENT, createEngine: memoryEngine });
    expect(rs.limiterIds().sort()).toEqual(Object.keys(config.limiters).sort());
    void rs.close();
    return 'loaded';
  }

  it(
    'returns a configuration RateSync accepts, or throws ConfigValidationError naming each path',
    () => {
      const outcomes = { loaded: 0, rejected: 0, syntax: 0, skipped: 0 };
      fc.assert(
        fc.property(caseArb, (c) => {
          const outcome = loadCase(c);
          fc.pre(outcome !== 'skipped');
          outcomes[outcome]++;
        }),
        propertyParams(300, 60_000),
      );
      // The mutations must reach all three outcomes, or the property says little.
      if (!process.env.PROPERTY_PATH)
        expect(Math.min(outcomes.loaded, outcomes.rejected, outcomes.syntax)).toBeGreaterThan(0);
    },
    propertyTimeout(60_000),
  );

  it.each(CONFIG_REGRESSIONS.map((r) => [r.name, r.case] as const))(
    'regression: %s',
    (_name, c) => {
      expect(loadCase(c)).toBe('rejected');
    },
  );

  it(
    'a clone() with bad overrides throws a RateSyncError and registers nothing (never half-applied)',
    async () => {
      const base = loadConfig({ configFile: SEEDS[0].path, env: { RATE_LIMIT_ENGINE: 'memory' } });
      const rs = new RateSync(base, { logger: SILENT });
      const before = rs.list();
      const fields: (keyof LimiterOptions)[] = [
        'store',
        'algorithm',
        'ratePerSecond',
        'burst',
        'limit',
        'windowSeconds',
        'maxConcurrent',
        'leaseSeconds',
        'timeout',
        'failClosed',
        'maxHoldSeconds',
        'enforce',
      ];
      const overridesArb = fc.dictionary(fc.constantFrom(...fields), valueArb, { maxKeys: 3 });
      let accepted = 0;
      let refused = 0;
      let n = 0;
      fc.assert(
        fc.property(fc.constantFrom(...rs.limiterIds()), overridesArb, (source, overrides) => {
          const id = `clone_${n++}`;
          try {
            rs.clone(source, id, overrides as Partial<LimiterOptions>);
          } catch (error) {
            expect(error).toBeInstanceOf(RateSyncError);
            expect(rs.has(id)).toBe(false);
            refused++;
            return;
          }
          accepted++;
          expect(rs.has(id)).toBe(true);
        }),
        propertyParams(400, 60_000),
      );
      // Nothing of a refused clone is left: the registry holds the base and the accepted ones.
      expect(rs.list().slice(0, before.length)).toEqual(before);
      expect(rs.list()).toHaveLength(before.length + accepted);
      if (!process.env.PROPERTY_PATH) expect(Math.min(accepted, refused)).toBeGreaterThan(0);
      await rs.close();
    },
    propertyTimeout(60_000),
  );
});
