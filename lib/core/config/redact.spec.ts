import { describeStore } from './describe-store';
import { redactUrl, scrubUrlSecrets } from './redact';

describe('redactUrl', () => {
  it.each([
    ['redis://:s3cret@cache:6379/0', 'redis://***@cache:6379/0'],
    ['redis://default:s3cret@cache:6379', 'redis://***@cache:6379'],
    ['postgres://app:pa@ss/w0rd@db:5432/app', 'postgres://***@db:5432/app'],
    ['rediss://token@upstash.io:6379', 'rediss://***@upstash.io:6379'],
    [
      'postgres://db/app?user=app&password=s3cret&ssl=true',
      'postgres://db/app?user=app&password=***&ssl=true',
    ],
    ['redis://cache:6379/0', 'redis://cache:6379/0'],
    ['user:s3cret@cache:6379', '***@cache:6379'],
    ['redis://:s3c#ret@cache:6379', 'redis://***@cache:6379'],
    ['redis://s3c?ret@cache:6379', 'redis://***@cache:6379'],
  ])('%s -> %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
    expect(redactUrl(url)).not.toContain('s3cret');
    expect(redactUrl(url)).not.toMatch(/s3c|ret@/);
  });
});

describe('scrubUrlSecrets', () => {
  it('hides the password, and every piece of credentials a driver may read as a host', () => {
    const url = 'postgres://app:s3cr@tPart/x@db:5432/app';
    expect(scrubUrlSecrets('getaddrinfo ENOTFOUND tPart', url)).toBe('getaddrinfo ENOTFOUND ***');
    expect(scrubUrlSecrets(`failed: ${url}`, url)).toBe('failed: postgres://***@db:5432/***');
    expect(scrubUrlSecrets('password s3cret rejected', 'redis://:s3cret@h')).toBe(
      'password *** rejected',
    );
    expect(scrubUrlSecrets('role postgres failed', 'postgres://postgres@db/app')).toBe(
      'role postgres failed',
    );
  });
});

describe('describeStore', () => {
  it('hides the password and the URL credentials, keeps the rest', () => {
    const summary = describeStore({
      engine: 'redis',
      url: 'redis://:s3cret@cache:6379/0',
      password: 'other-s3cret',
      keyPrefix: 'app',
      clusterNodes: ['a:1'],
    });
    expect(summary).toEqual({
      engine: 'redis',
      url: 'redis://***@cache:6379/0',
      password: '***',
      keyPrefix: 'app',
      clusterNodes: ['a:1'],
    });
    expect(JSON.stringify(summary)).not.toContain('s3cret');
  });

  it('adds no password key when none is configured', () => {
    expect(describeStore({ engine: 'memory', maxKeys: 10 })).toEqual({
      engine: 'memory',
      maxKeys: 10,
    });
  });
});
