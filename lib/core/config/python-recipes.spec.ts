import { join, resolve } from 'node:path';
import type { ConfigProblem } from '../errors';
import { loadConfig, type LoadConfigOptions } from './load-config';
import { problemsThrownBy } from '../../../test/support/config-problems';

const PYTHON = resolve(__dirname, '../../../test/fixtures/config/python');
const recipe = (name: string): string => join(PYTHON, name);

const problemsOf = (options: LoadConfigOptions): ConfigProblem[] =>
  problemsThrownBy(() => loadConfig(options));

describe("loadConfig: the Python library's recipes, unchanged", () => {
  it('(a) development on memory', () => {
    expect(loadConfig({ configFile: recipe('development.toml'), env: {} })).toEqual({
      stores: { dev: { engine: 'memory' } },
      limiters: { api: { store: 'dev', algorithm: 'token_bucket', ratePerSecond: 100 } },
      warnings: [],
      source: { kind: 'file', path: recipe('development.toml'), origin: 'option' },
    });
  });

  it('(b) production on redis, with fail_closed honoured', () => {
    const env = { REDIS_URL: 'redis://:s3cret@prod-redis:6379/0' };
    expect(loadConfig({ configFile: recipe('production.toml'), env })).toEqual({
      stores: {
        'primary-store': {
          engine: 'redis',
          url: 'redis://:s3cret@prod-redis:6379/0',
          poolMaxSize: 20,
        },
      },
      limiters: {
        api: {
          store: 'primary-store',
          algorithm: 'token_bucket',
          ratePerSecond: 1000,
          maxConcurrent: 200,
          timeout: 30,
        },
        partner_api: {
          store: 'primary-store',
          algorithm: 'token_bucket',
          ratePerSecond: 10,
          timeout: 60,
          failClosed: true,
        },
        login: {
          store: 'primary-store',
          algorithm: 'sliding_window',
          limit: 5,
          windowSeconds: 300,
        },
      },
      warnings: [],
      source: { kind: 'file', path: recipe('production.toml'), origin: 'option' },
    });
  });

  it('(b) production without REDIS_URL names the variable, the file and the line', () => {
    const file = recipe('production.toml');
    expect(problemsOf({ configFile: file, env: {} })).toEqual([
      {
        path: 'stores.primary-store.url',
        message: 'env variable REDIS_URL is not set; set it or write ${REDIS_URL:-default}',
        file,
        line: 3,
      },
    ]);
  });

  it('(c) multi-tenant', () => {
    const config = loadConfig({
      configFile: recipe('multi-tenant.toml'),
      env: { REDIS_URL: 'redis://r' },
    });
    expect(config.stores).toEqual({ shared: { engine: 'redis', url: 'redis://r' } });
    expect(config.limiters).toEqual({
      tenant_base: { store: 'shared', algorithm: 'token_bucket', ratePerSecond: 10 },
      tenant_premium: { store: 'shared', algorithm: 'token_bucket', ratePerSecond: 100 },
    });
  });

  describe('(d) env-based switching', () => {
    const configFile = recipe('env-switching.toml');

    it('defaults to memory and 10 per second', () => {
      expect(loadConfig({ configFile, env: {} })).toEqual({
        stores: { main: { engine: 'memory' } },
        limiters: { api: { store: 'main', algorithm: 'token_bucket', ratePerSecond: 10 } },
        warnings: [],
        source: { kind: 'file', path: configFile, origin: 'option' },
      });
    });

    it('switches to redis from the environment', () => {
      const env = {
        RATE_LIMIT_ENGINE: 'redis',
        RATE_LIMIT_URL: 'redis://prod-redis:6379/0',
        API_RATE_LIMIT: '1000.0',
      };
      expect(loadConfig({ configFile, env })).toEqual({
        stores: { main: { engine: 'redis', url: 'redis://prod-redis:6379/0' } },
        limiters: { api: { store: 'main', algorithm: 'token_bucket', ratePerSecond: 1000 } },
        warnings: [],
        source: { kind: 'file', path: configFile, origin: 'option' },
      });
    });

    it('reports a redis engine without a URL, and a bad rate, with lines', () => {
      const env = { RATE_LIMIT_ENGINE: 'redis', API_RATE_LIMIT: 'fast' };
      expect(problemsOf({ configFile, env })).toEqual([
        {
          path: 'stores.main.url',
          message: 'required for a redis store (or give cluster_nodes or sentinels)',
          file: configFile,
          line: 1,
        },
        {
          path: 'limiters.api.rate_per_second',
          message: 'expected a number > 0, got "${API_RATE_LIMIT:-10.0}"',
          file: configFile,
          line: 7,
        },
      ]);
    });
  });

  it('loads the tier example', () => {
    const config = loadConfig({ configFile: recipe('tiers.toml'), env: {} });
    expect(Object.keys(config.limiters)).toEqual(['free-tier', 'pro-tier', 'enterprise-tier']);
    expect(config.limiters['free-tier']).toEqual({
      store: 'shared-backend',
      algorithm: 'token_bucket',
      ratePerSecond: 0.16,
      maxConcurrent: 2,
      timeout: 10,
    });
  });

  it('loads env interpolation in table keys', () => {
    const configFile = recipe('dynamic-keys.toml');
    const byDefault = loadConfig({ configFile, env: {} });
    expect(byDefault.limiters.api_dynamic).toEqual({
      store: 'local',
      algorithm: 'token_bucket',
      ratePerSecond: 3,
      timeout: 15,
    });
    expect(byDefault.limiters.exclusive_task).toEqual({
      store: 'local',
      algorithm: 'token_bucket',
      maxConcurrent: 1,
      timeout: 0,
    });
    const custom = loadConfig({
      configFile,
      env: { DYNAMIC_LIMITER_ID: 'reports', DYNAMIC_RATE: '7' },
    });
    expect(custom.limiters.reports.ratePerSecond).toBe(7);
    expect(custom.limiters.api_dynamic).toBeUndefined();
    const bad = problemsOf({
      configFile,
      env: { DYNAMIC_LIMITER_ID: 'reports', DYNAMIC_RATE: 'x' },
    });
    expect(bad).toEqual([
      {
        path: 'limiters.reports.rate_per_second',
        message: 'expected a number > 0, got "${DYNAMIC_RATE:-3.0}"',
        file: configFile,
        line: 43,
      },
    ]);
  });

  it('loads the [fastapi] trusted proxies and the store examples', () => {
    const env = { REDIS_URL: 'redis://r', DATABASE_URL: 'postgresql://u:p@db/app' };
    expect(loadConfig({ configFile: recipe('fastapi-proxies.toml'), env }).trustedProxies).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
    ]);
    const noRedisUrl = { DATABASE_URL: env.DATABASE_URL };
    expect(loadConfig({ configFile: recipe('stores.toml'), env: noRedisUrl }).stores).toEqual({
      prod: {
        engine: 'redis',
        url: 'redis://localhost:6379/0',
        poolMaxSize: 20,
        keyPrefix: 'myapp:ratelimit',
      },
      db: { engine: 'postgres', url: 'postgresql://u:p@db/app', autoCreate: true, poolMaxSize: 10 },
    });
  });
});
