import { ConfigValidationError } from '../errors';
import type { ConfigLayer } from './config-layer';
import { validateConfig } from './validate';
import { problemsOf, toml, inline } from '../../../test/support/config-problems';

const memory = { local: { engine: 'memory' } };

describe('validateConfig', () => {
  it('normalizes snake_case TOML data to camelCase options', () => {
    const config = validateConfig(
      toml({
        stores: { cache: { engine: 'redis', url: 'redis://h:6379/0', key_prefix: 'app', db: 1 } },
        limiters: {
          api: {
            store: 'cache',
            rate_per_second: 10,
            burst: 5,
            max_concurrent: 2,
            lease_seconds: 30,
          },
          login: { store: 'cache', algorithm: 'sliding_window', limit: 5, window_seconds: 300 },
        },
      }),
    );
    expect(config).toEqual({
      stores: { cache: { engine: 'redis', url: 'redis://h:6379/0', keyPrefix: 'app', db: 1 } },
      limiters: {
        api: {
          store: 'cache',
          algorithm: 'token_bucket',
          ratePerSecond: 10,
          burst: 5,
          maxConcurrent: 2,
          leaseSeconds: 30,
        },
        login: { store: 'cache', algorithm: 'sliding_window', limit: 5, windowSeconds: 300 },
      },
      warnings: [],
    });
  });

  it('accepts camelCase and snake_case in inline options', () => {
    const config = validateConfig(
      inline({
        stores: {
          db: { engine: 'postgres', url: 'postgres://h/db', tableName: 't', auto_create: false },
        },
        limiters: { jobs: { store: 'db', maxConcurrent: 3, fail_closed: true } },
      }),
    );
    expect(config.stores.db).toEqual({
      engine: 'postgres',
      url: 'postgres://h/db',
      tableName: 't',
      autoCreate: false,
    });
    expect(config.limiters.jobs).toEqual({
      store: 'db',
      algorithm: 'token_bucket',
      maxConcurrent: 3,
      failClosed: true,
    });
  });

  it('keeps an id named __proto__ as a plain entry', () => {
    const data = JSON.parse('{"stores": {"__proto__": {"engine": "memory"}}}');
    const config = validateConfig(toml(data));
    expect(Object.keys(config.stores)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(config.stores)).toBe(Object.prototype);
  });

  it('accepts an empty configuration', () => {
    expect(validateConfig([])).toEqual({ stores: {}, limiters: {}, warnings: [] });
  });

  describe('unknown keys', () => {
    it('rejects them everywhere with a did-you-mean hint', () => {
      expect(
        problemsOf(
          toml({
            limiter: {},
            stores: { s: { engine: 'redis', url: 'redis://h', key_prefx: 'x' } },
            limiters: { api: { store: 's', rate_per_secnd: 1, rate_per_second: 1, colour: 'red' } },
          }),
        ),
      ).toEqual([
        'limiter: unknown top-level key; did you mean `limiters`?',
        'stores.s.key_prefx: unknown key; did you mean `key_prefix`?',
        'limiters.api.rate_per_secnd: unknown key; did you mean `rate_per_second`?',
        'limiters.api.colour: unknown key',
      ]);
    });

    it('suggests in the spelling used', () => {
      expect(
        problemsOf(
          inline({
            stores: memory,
            limiters: { api: { store: 'local', ratePerSecnd: 1, maxConcurrent: 1 } },
          }),
        ),
      ).toEqual(['limiters.api.ratePerSecnd: unknown key; did you mean `ratePerSecond`?']);
    });

    it('asks for snake_case in TOML and says where a misplaced key belongs', () => {
      expect(
        problemsOf(
          toml({
            stores: { s: { engine: 'memory', rate_per_second: 1 } },
            limiters: { api: { store: 's', ratePerSecond: 1, engine: 'memory' } },
          }),
        ),
      ).toEqual([
        'stores.s.rate_per_second: unknown key: `rate_per_second` is a limiter key',
        'limiters.api.ratePerSecond: TOML keys are snake_case; write `rate_per_second`',
        'limiters.api.engine: unknown key: `engine` is a store key',
        'limiters.api: a token_bucket limiter needs rate_per_second, max_concurrent or both',
      ]);
    });
  });

  it('reports every problem at once, in one error', () => {
    let error: ConfigValidationError | undefined;
    try {
      validateConfig(
        toml({
          stores: { cache: { engine: 'redis', table_name: 't' }, db: 'postgres' },
          limiters: {
            api: { store: 'cache', rate_per_second: 'fast', burst: 0 },
            login: { store: 'cach', algorithm: 'sliding_window', limit: 5 },
            'tenant:acme': { store: 'cache', max_concurrent: -1 },
          },
        }),
      );
    } catch (e) {
      error = e as ConfigValidationError;
    }
    expect(error?.problems.map((p) => p.path)).toEqual([
      'stores.db',
      'stores.cache.table_name',
      'stores.cache.url',
      'limiters.api.rate_per_second',
      'limiters.api.burst',
      'limiters.login.store',
      'limiters.login.window_seconds',
      'limiters."tenant:acme".max_concurrent',
    ]);
    expect(error?.message).toMatch(
      /^rate-sync configuration is invalid \(8 problems\):\n {2}- stores\.db: /,
    );
  });

  describe('layers', () => {
    const file: ConfigLayer = {
      data: {
        stores: { cache: { engine: 'redis', url: 'redis://h' } },
        limiters: { api: { store: 'cache', rate_per_second: 10, max_concurrent: 5, timeout: 30 } },
      },
      spelling: 'snake',
      file: '/app/rate-sync.toml',
      lineOf: (path) => path.length * 10,
    };

    it('merges inline options over the file key by key', () => {
      const config = validateConfig([
        file,
        inline({
          stores: { cache: { keyPrefix: 'app' }, local: { engine: 'memory' } },
          limiters: {
            api: { ratePerSecond: 5, failClosed: true },
            jobs: { store: 'local', maxConcurrent: 1 },
          },
        }),
      ]);
      expect(config.stores.cache).toEqual({ engine: 'redis', url: 'redis://h', keyPrefix: 'app' });
      expect(config.limiters.api).toEqual({
        store: 'cache',
        algorithm: 'token_bucket',
        ratePerSecond: 5,
        maxConcurrent: 5,
        timeout: 30,
        failClosed: true,
      });
      expect(config.limiters.jobs.maxConcurrent).toBe(1);
    });

    it('locates problems in the file, and inline problems nowhere', () => {
      let error: ConfigValidationError | undefined;
      try {
        validateConfig([
          file,
          inline({ limiters: { api: { timeout: -1, algorithm: 'sliding_window' } } }),
        ]);
      } catch (e) {
        error = e as ConfigValidationError;
      }
      expect(error?.problems).toEqual([
        { path: 'limiters.api.timeout', message: 'expected a number >= 0, got -1' },
        {
          path: 'limiters.api.limit',
          message: 'required for a sliding_window limiter',
          file: '/app/rate-sync.toml',
          line: 20,
        },
        {
          path: 'limiters.api.window_seconds',
          message: 'required for a sliding_window limiter',
          file: '/app/rate-sync.toml',
          line: 20,
        },
      ]);
    });

    it('rejects a key given twice in one layer', () => {
      expect(
        problemsOf(inline({ stores: { s: { engine: 'memory', maxKeys: 1, max_keys: 2 } } })),
      ).toEqual(['stores.s.max_keys: given twice, as maxKeys and max_keys; keep one']);
    });

    it('rejects sections and tables that are not tables', () => {
      expect(problemsOf(toml({ stores: [], limiters: { api: 5 } }))).toEqual([
        'stores: expected a table, got an empty array',
        'limiters.api: expected a table of options, got 5',
      ]);
    });
  });

  describe('[fastapi] (Python compatibility)', () => {
    it('returns trusted_proxy_networks as trustedProxies', () => {
      const config = validateConfig(toml({ fastapi: { trusted_proxy_networks: ['10.0.0.0/8'] } }));
      expect(config).toEqual({
        stores: {},
        limiters: {},
        trustedProxies: ['10.0.0.0/8'],
        warnings: [],
      });
    });

    it('validates it', () => {
      expect(problemsOf(toml({ fastapi: { trusted_proxy_network: [] } }))).toEqual([
        'fastapi.trusted_proxy_network: unknown key; did you mean `trusted_proxy_networks`?',
      ]);
    });
  });
});
