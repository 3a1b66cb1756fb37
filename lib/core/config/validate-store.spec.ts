import { validateConfig } from './validate';
import { problemsOf, toml } from '../../../test/support/config-problems';

const storeProblems = (store: Record<string, unknown>): string[] =>
  problemsOf(toml({ stores: { s: store } }));

describe('validateConfig: stores', () => {
  it('requires an engine and lists the valid ones', () => {
    expect(storeProblems({})).toEqual([
      'stores.s.engine: required: one of "memory", "redis", "postgres"',
    ]);
    expect(storeProblems({ engine: 'mysql' })).toEqual([
      'stores.s.engine: expected one of "memory", "redis", "postgres", got "mysql"',
    ]);
  });

  it('rejects keys of another engine, naming the engine they belong to', () => {
    expect(storeProblems({ engine: 'redis', url: 'redis://h', table_name: 't' })).toEqual([
      'stores.s.table_name: applies only to postgres stores, and this store\'s engine is "redis"',
    ]);
    expect(storeProblems({ engine: 'postgres', url: 'postgres://h/d', key_prefix: 'x' })).toEqual([
      'stores.s.key_prefix: applies only to redis stores, and this store\'s engine is "postgres"',
    ]);
    expect(storeProblems({ engine: 'memory', url: 'redis://h', max_keys: 5 })).toEqual([
      'stores.s.url: applies only to redis and postgres stores, and this store\'s engine is "memory"',
    ]);
    expect(storeProblems({ engine: 'redis', url: 'redis://h', max_keys: 5 })).toEqual([
      'stores.s.max_keys: applies only to memory stores, and this store\'s engine is "redis"',
    ]);
  });

  it('rejects unsafe postgres identifiers', () => {
    const problems = storeProblems({
      engine: 'postgres',
      url: 'postgres://h/d',
      table_name: 'x; drop table y',
      schema_name: 'a'.repeat(100),
    });
    expect(problems).toEqual([
      'stores.s.table_name: expected a SQL identifier: a letter or _, then letters, digits or _, 55 characters at most, got "x; drop table y"',
      `stores.s.schema_name: expected a SQL identifier: a letter or _, then letters, digits or _, 63 characters at most, got "${'a'.repeat(40)}"... (100 characters)`,
    ]);
  });

  it('limits table_name to 55 characters, so derived function names fit in 63', () => {
    const store = { engine: 'postgres', url: 'postgres://h/d' };
    const longest = { ...store, table_name: 'a'.repeat(55), schema_name: 'b'.repeat(63) };
    expect(validateConfig(toml({ stores: { s: longest } })).stores.s).toMatchObject({
      tableName: 'a'.repeat(55),
    });
    expect(storeProblems({ ...store, table_name: 'a'.repeat(56) })).toHaveLength(1);
  });

  it('rejects braces in key_prefix (they would change the Redis Cluster hash tag)', () => {
    expect(storeProblems({ engine: 'redis', url: 'redis://h', key_prefix: 'app:{rl}' })).toEqual([
      'stores.s.key_prefix: expected a non-empty string without { or } (they would change the Redis Cluster hash tag), got "app:{rl}"',
    ]);
  });

  it('requires a url, cluster_nodes or sentinels for redis; postgres falls back to PG*', () => {
    expect(storeProblems({ engine: 'redis' })).toEqual([
      'stores.s.url: required for a redis store (or give cluster_nodes or sentinels)',
    ]);
    // pg reads PGHOST, PGUSER, PGDATABASE... when there is no URL, as libpq does.
    expect(validateConfig(toml({ stores: { s: { engine: 'postgres' } } })).stores.s).toEqual({
      engine: 'postgres',
    });
    const cluster = validateConfig(
      toml({ stores: { s: { engine: 'redis', cluster_nodes: ['a:7000'] } } }),
    );
    expect(cluster.stores.s).toEqual({ engine: 'redis', clusterNodes: ['a:7000'] });
  });

  it('checks pool bounds against each other', () => {
    expect(
      storeProblems({
        engine: 'postgres',
        url: 'postgres://h/d',
        pool_min_size: 5,
        pool_max_size: 2,
      }),
    ).toEqual(['stores.s.pool_min_size: pool_min_size (5) is larger than pool_max_size (2)']);
  });

  it('coerces numbers and booleans only where the schema expects them', () => {
    const config = validateConfig(
      toml({
        stores: {
          r: { engine: 'redis', url: 'redis://h', password: '1234', key_prefix: '123', db: '2' },
          p: {
            engine: 'postgres',
            url: 'postgres://h/d',
            auto_create: 'false',
            pool_max_size: '20',
          },
        },
      }),
    );
    expect(config.stores.r).toEqual({
      engine: 'redis',
      url: 'redis://h',
      password: '1234',
      keyPrefix: '123',
      db: 2,
    });
    expect(config.stores.p).toEqual({
      engine: 'postgres',
      url: 'postgres://h/d',
      autoCreate: false,
      poolMaxSize: 20,
    });
  });

  it('accepts the Python timing_margin_ms and drops it', () => {
    const config = validateConfig(
      toml({ stores: { s: { engine: 'redis', url: 'redis://h', timing_margin_ms: 10 } } }),
    );
    expect(config.stores.s).toEqual({ engine: 'redis', url: 'redis://h' });
  });

  it('accepts our own keys', () => {
    const config = validateConfig(
      toml({
        stores: {
          p: {
            engine: 'postgres',
            url: 'postgres://h/d',
            unlogged: true,
            synchronous_commit: 'on',
            cleanup_interval: 30,
            breaker_cooldown: 2,
          },
          m: { engine: 'memory', max_keys: 1000 },
        },
      }),
    );
    expect(config.stores.p).toMatchObject({
      unlogged: true,
      synchronousCommit: 'on',
      cleanupInterval: 30,
      breakerCooldown: 2,
    });
    expect(config.stores.m).toEqual({ engine: 'memory', maxKeys: 1000 });
    expect(
      storeProblems({ engine: 'postgres', url: 'postgres://h/d', synchronous_commit: 'maybe' }),
    ).toEqual([
      'stores.s.synchronous_commit: expected one of "on", "off", "local", "remote_write", "remote_apply", got "maybe"',
    ]);
  });

  it('never shows a password or URL credentials', () => {
    const problems = storeProblems({
      engine: 'redis',
      url: 'http://admin:s3cret@h:6379',
      password: 1234,
    });
    expect(problems).toEqual([
      'stores.s.url: expected a redis:// or rediss:// URL, got "http://***@h:6379"',
      'stores.s.password: expected a non-empty string, got a number',
    ]);
    expect(problems.join('\n')).not.toMatch(/s3cret|1234/);
  });

  it.each([
    [
      { engine: 'redis', url: 'redis://h', socket_timeout: 30 * 86_400 },
      'stores.s.socket_timeout: expected a number <= 3600 (one hour), got 2592000',
    ],
    [
      { engine: 'postgres', url: 'postgres://h/d', socket_connect_timeout: 7200 },
      'stores.s.socket_connect_timeout: expected a number <= 3600 (one hour), got 7200',
    ],
    [
      { engine: 'postgres', url: 'postgres://h/d', cleanup_interval: 30 * 86_400 },
      'stores.s.cleanup_interval: expected a number <= 86400 (one day), got 2592000',
    ],
    [
      { engine: 'memory', breaker_cooldown: 1e6 },
      'stores.s.breaker_cooldown: expected a number <= 3600 (one hour), got 1000000',
    ],
    [
      { engine: 'memory', max_keys: 2 ** 24 },
      'stores.s.max_keys: expected an integer <= 10000000 (keys one process can track), got 16777216',
    ],
    [
      { engine: 'postgres', url: 'postgres://h/d', pool_max_size: 5000 },
      'stores.s.pool_max_size: expected an integer <= 1000 (connections per process), got 5000',
    ],
  ])('bounds every duration and count: %j', (store, problem) => {
    expect(storeProblems(store)).toEqual([problem]);
  });
});
