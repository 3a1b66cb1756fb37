import { interpolateEnv, UNRESOLVED } from './interpolate';

describe('interpolateEnv', () => {
  const run = (data: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    const problems: { path: string[]; message: string }[] = [];
    const result = interpolateEnv(data, env, (path, message) =>
      problems.push({ path: [...path], message }),
    );
    return { ...result, problems };
  };

  it('replaces ${VAR} and ${VAR:-default} in string values, recursively', () => {
    const { data, problems } = run(
      { stores: { a: { url: 'redis://${HOST}:${PORT:-6379}/0', nodes: ['${HOST}:1'] } } },
      { HOST: 'cache' },
    );
    expect(problems).toEqual([]);
    expect(data).toEqual({ stores: { a: { url: 'redis://cache:6379/0', nodes: ['cache:1'] } } });
  });

  it('uses the default when the variable is unset or empty, the value otherwise', () => {
    expect(run({ v: '${X:-d}' }).data).toEqual({ v: 'd' });
    expect(run({ v: '${X:-d}' }, { X: '' }).data).toEqual({ v: 'd' });
    expect(run({ v: '${X:-d}' }, { X: 'set' }).data).toEqual({ v: 'set' });
    expect(run({ v: 'a${X:-}b' }).data).toEqual({ v: 'ab' });
  });

  it("keeps strings as strings: coercion is the schema's job", () => {
    expect(run({ rate: '${RATE:-10.0}', on: '${ON:-true}' }).data).toEqual({
      rate: '10.0',
      on: 'true',
    });
  });

  it('does not rescan substituted text', () => {
    expect(run({ password: '${P}' }, { P: 'a${B}c' }).data).toEqual({ password: 'a${B}c' });
  });

  it('reports an unset ${VAR} with its name and path, and marks the value unresolved', () => {
    const { data, problems } = run({ stores: { prod: { url: '${REDIS_URL}' } } });
    expect(problems).toEqual([
      {
        path: ['stores', 'prod', 'url'],
        message: 'env variable REDIS_URL is not set; set it or write ${REDIS_URL:-default}',
      },
    ]);
    expect((data.stores as any).prod.url).toBe(UNRESOLVED);
  });

  it('reports malformed references', () => {
    const { problems } = run({ a: '${1X}', b: '${OPEN', c: '${X:default}' });
    expect(problems.map((p) => p.path[0])).toEqual(['a', 'b', 'c']);
    expect(problems[0].message).toContain('malformed env reference ${1X}');
    expect(problems[1].message).toContain('malformed env reference ${OPEN');
  });

  it('interpolates keys and maps them back to the raw spelling', () => {
    const { data, rawPathOf } = run({ limiters: { '${ID:-api_dynamic}': { rate: 1 } } }, {});
    expect(data).toEqual({ limiters: { api_dynamic: { rate: 1 } } });
    expect(rawPathOf(['limiters', 'api_dynamic', 'rate'])).toEqual([
      'limiters',
      '${ID:-api_dynamic}',
      'rate',
    ]);
    expect(rawPathOf(['limiters', 'api_dynamic', 'missing_key'])).toEqual([
      'limiters',
      '${ID:-api_dynamic}',
      'missing_key',
    ]);
  });

  it('reports keys that collide or become empty after interpolation', () => {
    const { problems } = run({ limiters: { api: {}, '${ID:-api}': {}, '${EMPTY:-}': {} } });
    expect(problems.map((p) => p.message)).toEqual([
      'defined twice: this key becomes "api" after env interpolation',
      'this key is empty after env interpolation',
    ]);
  });

  it('drops a value made only of references that resolves to the empty string', () => {
    const { data } = run({ stores: { main: { engine: 'memory', url: '${RATE_LIMIT_URL:-}' } } });
    expect(data).toEqual({ stores: { main: { engine: 'memory' } } });
  });

  it('keeps an empty literal string and non-string values as they are', () => {
    const date = new Date(0);
    expect(run({ a: '', b: 1, c: true, d: date }).data).toEqual({ a: '', b: 1, c: true, d: date });
  });
});
