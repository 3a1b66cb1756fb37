import type { ConfigLayer } from './config-layer';
import { validateConfig } from './validate';
import { problemsOf, toml, inline } from '../../../test/support/config-problems';

const memory = { local: { engine: 'memory' } };

const limiterProblems = (limiter: Record<string, unknown>): string[] =>
  problemsOf(toml({ stores: memory, limiters: { api: { store: 'local', ...limiter } } }));

describe('validateConfig: limiters', () => {
  it('reports a bad rate in the documented format', () => {
    expect(limiterProblems({ rate_per_second: 'fast' })).toEqual([
      'limiters.api.rate_per_second: expected a number > 0, got "fast"',
    ]);
  });

  it.each([
    [{ rate_per_second: 0 }, 'limiters.api.rate_per_second: expected a number > 0, got 0'],
    [{ rate_per_second: -5 }, 'limiters.api.rate_per_second: expected a number > 0, got -5'],
    [
      { rate_per_second: Infinity },
      'limiters.api.rate_per_second: expected a number > 0, got Infinity',
    ],
    [{ max_concurrent: 1.5 }, 'limiters.api.max_concurrent: expected an integer >= 1, got 1.5'],
    [{ max_concurrent: 0 }, 'limiters.api.max_concurrent: expected an integer >= 1, got 0'],
    [{ rate_per_second: 1, burst: 0 }, 'limiters.api.burst: expected an integer >= 1, got 0'],
    [
      { max_concurrent: 1, lease_seconds: 0 },
      'limiters.api.lease_seconds: expected a number > 0, got 0',
    ],
    [{ rate_per_second: 1, timeout: -1 }, 'limiters.api.timeout: expected a number >= 0, got -1'],
    [
      { rate_per_second: 1, fail_closed: 'yes' },
      'limiters.api.fail_closed: expected true or false, got "yes"',
    ],
    [
      { rate_per_second: 1, enforce: 'no' },
      'limiters.api.enforce: expected true or false, got "no"',
    ],
    [{ rate_per_second: 1, enforce: 0 }, 'limiters.api.enforce: expected true or false, got 0'],
  ])('rejects %j', (limiter, problem) => {
    expect(limiterProblems(limiter)).toEqual([problem]);
  });

  it('rejects an unknown algorithm, listing the valid ones', () => {
    expect(limiterProblems({ algorithm: 'leaky_bucket', rate_per_second: 1 })).toEqual([
      'limiters.api.algorithm: expected one of "token_bucket", "sliding_window", got "leaky_bucket"',
    ]);
  });

  it('requires store, as the Python library does, suggesting the only store', () => {
    const one = problemsOf(toml({ stores: memory, limiters: { api: { rate_per_second: 1 } } }));
    expect(one).toEqual(['limiters.api.store: required; add store = "local"']);
    const two = problemsOf(
      toml({
        stores: { a: { engine: 'memory' }, b: { engine: 'memory' } },
        limiters: { api: { rate_per_second: 1 } },
      }),
    );
    expect(two).toEqual(['limiters.api.store: required: name one of the stores "a", "b"']);
    const none = problemsOf(toml({ limiters: { api: { rate_per_second: 1 } } }));
    expect(none).toEqual([
      'limiters.api.store: required; no store is defined: declare one under [stores.<id>]',
    ]);
  });

  it('rejects an undefined store with a hint', () => {
    expect(limiterProblems({ store: 'locl', rate_per_second: 1 })).toEqual([
      'limiters.api.store: unknown store "locl"; did you mean `local`?',
    ]);
    expect(limiterProblems({ store: 'redis', rate_per_second: 1 })).toEqual([
      'limiters.api.store: unknown store "redis"; defined stores: "local"',
    ]);
  });

  it('warns about (and drops) parameters of the other algorithm, as the Python library ignores them', () => {
    const layer = (limiter: Record<string, unknown>): ConfigLayer => ({
      ...toml({ stores: memory, limiters: { api: { store: 'local', ...limiter } } }),
      file: '/app/rate-sync.toml',
      lineOf: (path) => (path[path.length - 1] === 'limit' ? 7 : 9),
    });
    const bucket = validateConfig(layer({ rate_per_second: 1, limit: 5 }));
    expect(bucket.limiters.api).toEqual({
      store: 'local',
      algorithm: 'token_bucket',
      ratePerSecond: 1,
    });
    expect(bucket.warnings).toEqual([
      {
        path: 'limiters.api.limit',
        message:
          'applies only to sliding_window limiters, and this limiter\'s algorithm is "token_bucket" (the default): ignored (as the Python library does); remove it',
        file: '/app/rate-sync.toml',
        line: 7,
      },
    ]);
    const window = validateConfig(
      layer({
        algorithm: 'sliding_window',
        limit: 5,
        window_seconds: 60,
        rate_per_second: 'not even a number',
        burst: 2,
      }),
    );
    expect(window.limiters.api).toEqual({
      store: 'local',
      algorithm: 'sliding_window',
      limit: 5,
      windowSeconds: 60,
    });
    expect(window.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      'limiters.api.rate_per_second: applies only to token_bucket limiters, and this limiter\'s algorithm is "sliding_window": ignored (as the Python library does); remove it',
      'limiters.api.burst: applies only to token_bucket limiters, and this limiter\'s algorithm is "sliding_window": ignored (as the Python library does); remove it',
    ]);
  });

  it('keeps keys that no algorithm knows errors, with a hint', () => {
    expect(
      limiterProblems({
        algorithm: 'sliding_window',
        limit: 5,
        window_seconds: 6,
        rate_per_secnd: 1,
      }),
    ).toEqual(['limiters.api.rate_per_secnd: unknown key; did you mean `rate_per_second`?']);
  });

  it('requires the parameters of each algorithm', () => {
    expect(limiterProblems({})).toEqual([
      'limiters.api: a token_bucket limiter needs rate_per_second, max_concurrent or both',
    ]);
    expect(limiterProblems({ max_concurrent: 2, burst: 3 })).toEqual([
      "limiters.api.burst: burst needs rate_per_second: it sizes the rate's bucket",
    ]);
    expect(limiterProblems({ algorithm: 'sliding_window' })).toEqual([
      'limiters.api.limit: required for a sliding_window limiter',
      'limiters.api.window_seconds: required for a sliding_window limiter',
    ]);
    expect(limiterProblems({ rate_per_second: 1, lease_seconds: 5 })).toEqual([
      'limiters.api.lease_seconds: lease_seconds applies only with max_concurrent',
    ]);
  });

  it('block_seconds: a duration up to a year, only with a rate part', () => {
    expect(limiterProblems({ rate_per_second: 1, block_seconds: 0 })).toEqual([
      'limiters.api.block_seconds: expected a number > 0, got 0',
    ]);
    expect(limiterProblems({ rate_per_second: 1, block_seconds: 'long' })).toEqual([
      'limiters.api.block_seconds: expected a number > 0, got "long"',
    ]);
    expect(limiterProblems({ rate_per_second: 1, block_seconds: 40_000_000 })[0]).toMatch(
      /^limiters\.api\.block_seconds: .*365 days/,
    );
    expect(limiterProblems({ max_concurrent: 2, block_seconds: 60 })).toEqual([
      'limiters.api.block_seconds: block_seconds applies only with rate_per_second or a sliding window: it blocks a key after a rejection for its rate',
    ]);
    const config = validateConfig(
      inline({
        stores: memory,
        limiters: {
          login: {
            store: 'local',
            algorithm: 'sliding_window',
            limit: 5,
            windowSeconds: 300,
            blockSeconds: 900,
          },
        },
      }),
    );
    expect(config.limiters.login.blockSeconds).toBe(900);
  });

  it('combines max_concurrent with either algorithm', () => {
    const config = validateConfig(
      toml({
        stores: memory,
        limiters: {
          upload: { store: 'local', max_concurrent: 10, timeout: 300.0 },
          auth: {
            store: 'local',
            algorithm: 'sliding_window',
            limit: 5,
            window_seconds: 300,
            max_concurrent: 1,
          },
        },
      }),
    );
    expect(config.limiters.upload).toEqual({
      store: 'local',
      algorithm: 'token_bucket',
      maxConcurrent: 10,
      timeout: 300,
    });
    expect(config.limiters.auth.maxConcurrent).toBe(1);
  });

  it('honours fail_closed and timeout = 0', () => {
    const config = validateConfig(
      toml({
        stores: memory,
        limiters: { api: { store: 'local', max_concurrent: 1, timeout: 0, fail_closed: 'true' } },
      }),
    );
    expect(config.limiters.api).toMatchObject({ timeout: 0, failClosed: true });
  });

  it('names missing keys in camelCase for camelCase inline options', () => {
    expect(
      problemsOf(
        inline({
          stores: memory,
          limiters: { api: { store: 'local', maxConcurrent: 1, leaseSeconds: 1, burst: 2 } },
        }),
      ),
    ).toEqual(["limiters.api.burst: burst needs ratePerSecond: it sizes the rate's bucket"]);
    expect(problemsOf(inline({ stores: memory, limiters: { api: { store: 'local' } } }))).toEqual([
      'limiters.api: a token_bucket limiter needs ratePerSecond, maxConcurrent or both',
    ]);
  });

  describe('numeric bounds: every number fits every engine and Node timers', () => {
    it.each([
      [
        { max_concurrent: 2 ** 31 },
        'limiters.api.max_concurrent: expected an integer <= 1000000000 (the largest count every engine stores), got 2147483648',
      ],
      [
        { rate_per_second: 1, burst: 2 ** 31 },
        'limiters.api.burst: expected an integer <= 1000000000 (the largest count every engine stores), got 2147483648',
      ],
      [
        { algorithm: 'sliding_window', limit: 2 ** 31, window_seconds: 1 },
        'limiters.api.limit: expected an integer <= 1000000000 (the largest count every engine stores), got 2147483648',
      ],
      [
        { rate_per_second: 1e7 },
        'limiters.api.rate_per_second: expected a number <= 100000 (finer than the stores time acquisitions), got 10000000',
      ],
      [
        { rate_per_second: 1e-9 },
        'limiters.api.rate_per_second: expected at least one per 365 days (1/31536000), got 1e-9',
      ],
      [
        { max_concurrent: 1, lease_seconds: 1e9 },
        'limiters.api.lease_seconds: expected a number <= 31536000 (365 days), got 1000000000',
      ],
      [
        { algorithm: 'sliding_window', limit: 1, window_seconds: 400 * 86_400 },
        'limiters.api.window_seconds: expected a number <= 31536000 (365 days), got 34560000',
      ],
      [
        { rate_per_second: 1, timeout: 400 * 86_400 },
        'limiters.api.timeout: expected a number <= 31536000 (365 days), got 34560000',
      ],
    ])('rejects %j, naming the field and the bound', (limiter, problem) => {
      expect(limiterProblems(limiter)).toEqual([problem]);
    });

    it('accepts every bound itself: a 365-day window, 100000/s, a billion', () => {
      const ok = (limiter: Record<string, unknown>) =>
        validateConfig(toml({ stores: memory, limiters: { api: { store: 'local', ...limiter } } }));
      expect(() =>
        ok({
          algorithm: 'sliding_window',
          limit: 1e9,
          window_seconds: 31_536_000,
          timeout: 31_536_000,
        }),
      ).not.toThrow();
      expect(() => ok({ rate_per_second: 1e5, burst: 1e9, max_concurrent: 1e9 })).not.toThrow();
      expect(() =>
        ok({ rate_per_second: 1 / 31_536_000, lease_seconds: 31_536_000, max_concurrent: 1 }),
      ).not.toThrow();
    });
  });
});
