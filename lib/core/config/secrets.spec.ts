import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '../errors';
import { loadConfig, type LoadConfigOptions } from './load-config';

/** Fake secrets: none of them may appear in any problem. */
const TOKEN = 'TokSecret999';
const PASSWORD = 'PwSecret777';

describe('secrets stay secret in validation problems', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rate-sync-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const messageOf = (lines: string[], options: LoadConfigOptions = {}): string => {
    const configFile = join(dir, 'rate-sync.toml');
    writeFileSync(configFile, lines.join('\n'));
    try {
      loadConfig({ configFile, ...options });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigValidationError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigValidationError');
  };

  it('a value from an environment variable is shown as ${NAME}, never as its value', () => {
    const message = messageOf(
      [
        '[stores.cache]', // 1
        'engine = "redis"', // 2
        'url = "${REDIS_PASSWORD}"', // 3
        'db = "${API_TOKEN}"', // 4
        'cluster_nodes = ["${API_TOKEN}"]', // 5
        '[limiters.api]', // 6
        'store = "cache"', // 7
        'rate_per_second = "${API_TOKEN}"', // 8
        'max_concurrent = "x${API_TOKEN:-}"', // 9
        'fail_closed = "${API_TOKEN}"', // 10
      ],
      { env: { API_TOKEN: TOKEN, REDIS_PASSWORD: PASSWORD } },
    );
    expect(message).toContain(
      'limiters.api.rate_per_second: expected a number > 0, got "${API_TOKEN}"',
    );
    expect(message).toContain(
      'limiters.api.max_concurrent: expected an integer >= 1, got "x${API_TOKEN:-}"',
    );
    expect(message).toContain(
      'limiters.api.fail_closed: expected true or false, got "${API_TOKEN}"',
    );
    expect(message).toContain(
      'stores.cache.url: expected a redis:// or rediss:// URL, got "${REDIS_PASSWORD}"',
    );
    expect(message).toContain('stores.cache.db: expected an integer >= 0, got "${API_TOKEN}"');
    expect(message).toContain('one item is "${API_TOKEN}"');
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain(PASSWORD);
  });

  it('pool sizes from environment variables are shown as ${NAME} when they disagree', () => {
    const message = messageOf(
      [
        '[stores.db]',
        'engine = "postgres"',
        'url = "postgres://db/app"',
        'pool_min_size = "${MIN}"',
        'pool_max_size = 2',
      ],
      { env: { MIN: '987' } },
    );
    expect(message).toContain('pool_min_size ("${MIN}") is larger than pool_max_size (2)');
    expect(message).not.toContain('987');
  });

  it('the store of a limiter, from an environment variable, is shown as ${NAME}', () => {
    const message = messageOf(
      [
        '[stores.local]',
        'engine = "memory"',
        '[limiters.api]',
        'store = "${STORE}"',
        'rate_per_second = 1',
      ],
      { env: { STORE: TOKEN } },
    );
    expect(message).toContain('unknown store "${STORE}"');
    expect(message).not.toContain(TOKEN);
  });

  it.each([
    ['a # in the password', `redis://:${PASSWORD.slice(0, 5)}#${PASSWORD.slice(5)}@cache:6379`],
    [
      'a ? and an @ in the password',
      `redis://${PASSWORD.slice(0, 5)}?${PASSWORD.slice(5)}@cache:6379`,
    ],
    [
      'an @ and a / in the password',
      `postgres://app:${PASSWORD.slice(0, 5)}@${PASSWORD.slice(5)}/x@db:5432/app`,
    ],
    ['a malformed %-escape', `redis://:${PASSWORD}%zz@cache:6379`],
  ])('a URL that does not parse (%s) is never echoed, and says how to fix it', (_, url) => {
    const engine = url.startsWith('postgres') ? 'postgres' : 'redis';
    const message = messageOf(['[stores.s]', `engine = "${engine}"`, `url = "${url}"`]);
    expect(message).toContain('stores.s.url: expected a');
    expect(message).toContain('percent-encode');
    expect(message).not.toContain(PASSWORD.slice(0, 5));
    expect(message).not.toContain(PASSWORD.slice(5));
  });

  it('a URL with an unencoded @ in the password still loads: every client reads it the same way', () => {
    const configFile = join(dir, 'rate-sync.toml');
    writeFileSync(
      configFile,
      ['[stores.s]', 'engine = "redis"', `url = "redis://:Pw@Secret@cache:6379"`].join('\n'),
    );
    expect(loadConfig({ configFile }).stores.s.url).toBe('redis://:Pw@Secret@cache:6379');
  });
});
