import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ConfigProblem } from '../errors';
import { loadConfig, type LoadConfigOptions } from './load-config';
import { problemsThrownBy } from '../../../test/support/config-problems';

const PYTHON = resolve(__dirname, '../../../test/fixtures/config/python');
const recipe = (name: string): string => join(PYTHON, name);

const problemsOf = (options: LoadConfigOptions): ConfigProblem[] =>
  problemsThrownBy(() => loadConfig(options));

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rate-sync-load-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, lines: string[]): string => {
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  };

  it('merges inline stores and limiters over the file, key by key', () => {
    const config = loadConfig({
      configFile: recipe('production.toml'),
      env: { REDIS_URL: 'redis://r' },
      stores: { 'primary-store': { keyPrefix: 'orders' }, local: { engine: 'memory' } },
      limiters: {
        api: { ratePerSecond: 50, failClosed: true },
        uploads: { store: 'local', maxConcurrent: 3 },
      },
    });
    expect(config.stores['primary-store']).toEqual({
      engine: 'redis',
      url: 'redis://r',
      poolMaxSize: 20,
      keyPrefix: 'orders',
    });
    expect(config.limiters.api).toEqual({
      store: 'primary-store',
      algorithm: 'token_bucket',
      ratePerSecond: 50,
      maxConcurrent: 200,
      timeout: 30,
      failClosed: true,
    });
    expect(config.limiters.uploads).toEqual({
      store: 'local',
      algorithm: 'token_bucket',
      maxConcurrent: 3,
    });
    expect(config.limiters.login.algorithm).toBe('sliding_window');
  });

  it('uses inline options alone with configFile: false, even when a default file exists', () => {
    write('rate-sync.toml', ['not toml at all = = =']);
    const config = loadConfig({
      configFile: false,
      cwd: dir,
      env: {},
      stores: { local: { engine: 'memory' } },
      limiters: { api: { store: 'local', ratePerSecond: 5 } },
    });
    expect(config).toEqual({
      stores: { local: { engine: 'memory' } },
      limiters: { api: { store: 'local', algorithm: 'token_bucket', ratePerSecond: 5 } },
      warnings: [],
      source: { kind: 'disabled' },
    });
  });

  it('discovers ./rate-sync.toml in cwd', () => {
    write('rate-sync.toml', ['[stores.local]', 'engine = "memory"']);
    expect(loadConfig({ cwd: dir, env: {} }).stores).toEqual({ local: { engine: 'memory' } });
    expect(
      loadConfig({ cwd: dir, env: { RATE_SYNC_CONFIG: recipe('development.toml') } }).stores,
    ).toEqual({
      dev: { engine: 'memory' },
    });
  });

  it('returns an empty configuration when there is no file and no inline option', () => {
    expect(loadConfig({ cwd: dir, env: {} })).toEqual({
      stores: {},
      limiters: {},
      warnings: [],
      source: { kind: 'not-found', cwd: dir, tried: ['rate-sync.toml', 'config/rate-sync.toml'] },
    });
  });

  it('rejects an explicit file that does not exist', () => {
    const [problem] = problemsOf({ configFile: 'missing.toml', cwd: dir, env: {} });
    expect(problem.path).toBe('configFile');
    expect(problem.message).toContain(join(dir, 'missing.toml'));
  });

  it('turns a TOML syntax error into a problem with file and line, without the offending text', () => {
    const file = write('bad.toml', [
      '[stores.cache]',
      'engine = "redis"',
      'password = "s3cret',
      'db = 1',
    ]);
    const problems = problemsOf({ configFile: file, env: {} });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: '(toml syntax)', file, line: 3 });
    expect(problems[0].message).toMatch(/fix the TOML syntax$/);
    expect(JSON.stringify(problems)).not.toContain('s3cret');
  });

  it('reports interpolation and validation problems together, with lines', () => {
    const file = write('many.toml', [
      '[stores.cache]', // 1
      'engine = "redis"', // 2
      'url = "${REDIS_URL}"', // 3
      'table_name = "rate_state"', // 4
      '', // 5
      '[limiters.api]', // 6
      'store = "cache"', // 7
      'rate_per_secnd = 10', // 8
      'burst = "${BURST:-0}"', // 9
      '', // 10
      '[limiters.login]', // 11
      'store = "cache"', // 12
      'algorithm = "sliding_window"', // 13
      'rate_per_second = 1', // 14
      'limit = 5', // 15
    ]);
    expect(problemsOf({ configFile: file, env: {} })).toEqual([
      {
        path: 'stores.cache.url',
        message: expect.stringContaining('REDIS_URL is not set'),
        file,
        line: 3,
      },
      {
        path: 'stores.cache.table_name',
        message: 'applies only to postgres stores, and this store\'s engine is "redis"',
        file,
        line: 4,
      },
      {
        path: 'limiters.api.rate_per_secnd',
        message: 'unknown key; did you mean `rate_per_second`?',
        file,
        line: 8,
      },
      {
        path: 'limiters.api.burst',
        message: 'expected an integer >= 1, got "${BURST:-0}"',
        file,
        line: 9,
      },
      {
        path: 'limiters.api',
        message: 'a token_bucket limiter needs rate_per_second, max_concurrent or both',
        file,
        line: 6,
      },
      {
        path: 'limiters.api.burst',
        message: "burst needs rate_per_second: it sizes the rate's bucket",
        file,
        line: 9,
      },
      {
        path: 'limiters.login.window_seconds',
        message: 'required for a sliding_window limiter',
        file,
        line: 11,
      },
    ]);
  });

  it('never puts a password or URL credentials in an error', () => {
    const file = write('secrets.toml', [
      '[stores.cache]',
      'engine = "redis"',
      'url = "${REDIS_URL}"',
      'password = 12345678',
      'key_prefx = "x"',
    ]);
    const error = (() => {
      try {
        loadConfig({ configFile: file, env: { REDIS_URL: 'http://admin:s3cret@cache:6379' } });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error.message).toContain(
      'stores.cache.url: expected a redis:// or rediss:// URL, got "${REDIS_URL}"',
    );
    expect(error.message).toContain(
      'stores.cache.password: expected a non-empty string, got a number',
    );
    expect(error.message).not.toMatch(/s3cret|12345678/);
  });

  it('accepts engine and numbers from env interpolation, keeps string fields as strings', () => {
    const file = write('env.toml', [
      '[stores.cache]',
      'engine = "${ENGINE:-memory}"',
      'url = "${URL:-}"',
      'password = "${REDIS_PASSWORD:-}"',
      'key_prefix = "${PREFIX:-rate_limit}"',
      '[limiters.api]',
      'store = "cache"',
      'rate_per_second = "${RATE:-10.0}"',
      'burst = "${BURST:-5}"',
      'fail_closed = "${FAIL_CLOSED:-false}"',
    ]);
    const env = {
      ENGINE: 'redis',
      URL: 'redis://r',
      REDIS_PASSWORD: '1234',
      PREFIX: '123',
      FAIL_CLOSED: 'true',
    };
    const config = loadConfig({ configFile: file, env });
    expect(config.stores.cache).toEqual({
      engine: 'redis',
      url: 'redis://r',
      password: '1234',
      keyPrefix: '123',
    });
    expect(config.limiters.api).toEqual({
      store: 'cache',
      algorithm: 'token_bucket',
      ratePerSecond: 10,
      burst: 5,
      failClosed: true,
    });
    const plain = write('plain.toml', [
      '[stores.cache]',
      'engine = "${ENGINE:-memory}"',
      'key_prefix = "x"',
    ]);
    expect(problemsOf({ configFile: plain, env: {} })).toEqual([
      {
        path: 'stores.cache.key_prefix',
        message: 'applies only to redis stores, and this store\'s engine is "memory"',
        file: plain,
        line: 3,
      },
    ]);
  });
});
