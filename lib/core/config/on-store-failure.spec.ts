import { validateConfig } from './validate';
import { problemsOf, toml, inline } from '../../../test/support/config-problems';

const redis = { r: { engine: 'redis', url: 'redis://127.0.0.1:6379' } };

const limiter = (l: Record<string, unknown>) =>
  toml({ stores: redis, limiters: { api: { store: 'r', rate_per_second: 5, ...l } } });

describe('on_store_failure', () => {
  it.each(['open', 'closed', 'local'])('accepts "%s" from TOML and in code', (policy) => {
    expect(validateConfig(limiter({ on_store_failure: policy })).limiters.api.onStoreFailure).toBe(
      policy,
    );
    const code = inline({
      stores: redis,
      limiters: { api: { store: 'r', ratePerSecond: 5, onStoreFailure: policy } },
    });
    expect(validateConfig(code).limiters.api.onStoreFailure).toBe(policy);
  });

  it('names the values it accepts', () => {
    expect(problemsOf(limiter({ on_store_failure: 'degraded' }))).toEqual([
      expect.stringMatching(/^limiters\.api\.on_store_failure: .*"open", "closed", "local"/),
    ]);
  });

  it.each([
    [true, 'local'],
    [true, 'open'],
    [false, 'closed'],
    [false, 'local'],
  ])('fail_closed = %s with on_store_failure = "%s" is an error naming both', (closed, policy) => {
    expect(problemsOf(limiter({ fail_closed: closed, on_store_failure: policy }))).toEqual([
      `limiters.api.on_store_failure: "${policy}" disagrees with fail_closed = ${closed}: ` +
        'remove fail_closed (on_store_failure replaces it) or make them agree',
    ]);
  });

  it('the same in code, across layers (a Python file and an inline override)', () => {
    const file = limiter({ fail_closed: true });
    const code = inline({ limiters: { api: { onStoreFailure: 'local' } } });
    expect(problemsOf([file, code])).toEqual([
      'limiters.api.onStoreFailure: "local" disagrees with fail_closed = true: ' +
        'remove fail_closed (onStoreFailure replaces it) or make them agree',
    ]);
  });

  it.each([
    [true, 'closed'],
    [false, 'open'],
  ])('fail_closed = %s and "%s" agree', (closed, policy) => {
    expect(() =>
      validateConfig(limiter({ fail_closed: closed, on_store_failure: policy })),
    ).not.toThrow();
  });

  it('fleet_size and heartbeat_interval: bounds, shared engines only', () => {
    const store = (extra: Record<string, unknown>) =>
      toml({ stores: { r: { ...redis.r, ...extra } }, limiters: {} });
    expect(validateConfig(store({ fleet_size: 4, heartbeat_interval: 2 })).stores.r).toMatchObject({
      fleetSize: 4,
      heartbeatInterval: 2,
    });
    expect(problemsOf(store({ fleet_size: 0 }))).toEqual([
      'stores.r.fleet_size: expected an integer >= 1, got 0',
    ]);
    expect(problemsOf(store({ heartbeat_interval: 0 }))).toEqual([
      'stores.r.heartbeat_interval: expected a number > 0, got 0',
    ]);
    expect(
      problemsOf(toml({ stores: { m: { engine: 'memory', fleet_size: 2 } }, limiters: {} })),
    ).toEqual([
      expect.stringMatching(/^stores\.m\.fleet_size: applies only to redis and postgres/),
    ]);
  });
});
