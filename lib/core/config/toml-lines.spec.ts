import { indexTomlLines } from './toml-lines';

describe('indexTomlLines', () => {
  const text = [
    '# comment', // 1
    '[stores.local]', // 2
    'engine = "memory"', // 3
    '', // 4
    '[limiters.api]', // 5
    '  rate_per_second = 10 # inline comment', // 6
    'description = """', // 7
    'timeout = 1', // 8 (inside a multi-line string)
    '"""', // 9
    'timeout = 2', // 10
    '[limiters."tenant:acme"]', // 11
    '"max_concurrent" = 3', // 12
    '[limiters]', // 13
    'login.limit = 5', // 14
    "inline = { store = 'local' }", // 15
  ].join('\n');
  const lineOf = indexTomlLines(text);

  it('finds table headers and keys', () => {
    expect(lineOf(['stores', 'local'])).toBe(2);
    expect(lineOf(['stores', 'local', 'engine'])).toBe(3);
    expect(lineOf(['limiters', 'api', 'rate_per_second'])).toBe(6);
  });

  it('skips multi-line strings', () => {
    expect(lineOf(['limiters', 'api', 'timeout'])).toBe(10);
  });

  it('handles quoted and dotted keys', () => {
    expect(lineOf(['limiters', 'tenant:acme'])).toBe(11);
    expect(lineOf(['limiters', 'tenant:acme', 'max_concurrent'])).toBe(12);
    expect(lineOf(['limiters', 'login', 'limit'])).toBe(14);
  });

  it('falls back to the nearest enclosing table', () => {
    expect(lineOf(['limiters', 'api', 'window_seconds'])).toBe(5);
    expect(lineOf(['limiters', 'inline', 'store'])).toBe(15);
    expect(lineOf(['nowhere'])).toBeUndefined();
  });
});
