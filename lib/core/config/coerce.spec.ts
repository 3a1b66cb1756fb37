import { checkValue } from './coerce';
import type { FieldType } from './schema';

const positive: FieldType = { kind: 'number', min: 0, inclusive: false };
const nonNegative: FieldType = { kind: 'number', min: 0, inclusive: true };
const count: FieldType = { kind: 'integer', min: 1 };

describe('checkValue', () => {
  it('accepts numbers and numeric strings for number fields', () => {
    expect(checkValue(positive, 10)).toEqual({ ok: true, value: 10 });
    expect(checkValue(positive, '10.0')).toEqual({ ok: true, value: 10 });
    expect(checkValue(positive, ' 2.5e1 ')).toEqual({ ok: true, value: 25 });
    expect(checkValue(nonNegative, 0)).toEqual({ ok: true, value: 0 });
  });

  it.each([
    [positive, 'fast', 'expected a number > 0, got "fast"'],
    [positive, 0, 'expected a number > 0, got 0'],
    [positive, -1, 'expected a number > 0, got -1'],
    [positive, Infinity, 'expected a number > 0, got Infinity'],
    [positive, NaN, 'expected a number > 0, got NaN'],
    [positive, '0x10', 'expected a number > 0, got "0x10"'],
    [positive, '', 'expected a number > 0, got ""'],
    [positive, true, 'expected a number > 0, got true'],
    [nonNegative, -0.5, 'expected a number >= 0, got -0.5'],
    [count, 2.5, 'expected an integer >= 1, got 2.5'],
    [count, '2.5', 'expected an integer >= 1, got "2.5"'],
    [count, 0, 'expected an integer >= 1, got 0'],
  ])('rejects %j %j', (type, value, message) => {
    expect(checkValue(type, value)).toEqual({ ok: false, message });
  });

  it('accepts integral numbers and strings for integer fields', () => {
    expect(checkValue(count, 5)).toEqual({ ok: true, value: 5 });
    expect(checkValue(count, '5')).toEqual({ ok: true, value: 5 });
    expect(checkValue(count, 5n)).toEqual({ ok: true, value: 5 });
  });

  it('accepts true/false and their strings for boolean fields only', () => {
    const flag: FieldType = { kind: 'boolean' };
    expect(checkValue(flag, true)).toEqual({ ok: true, value: true });
    expect(checkValue(flag, 'false')).toEqual({ ok: true, value: false });
    expect(checkValue(flag, 'TRUE')).toEqual({ ok: true, value: true });
    expect(checkValue(flag, 'yes')).toEqual({
      ok: false,
      message: 'expected true or false, got "yes"',
    });
    expect(checkValue(flag, 1)).toEqual({ ok: false, message: 'expected true or false, got 1' });
  });

  it('keeps numeric-looking strings as strings in string fields', () => {
    expect(checkValue({ kind: 'string' }, '123')).toEqual({ ok: true, value: '123' });
    expect(checkValue({ kind: 'string', secret: true }, '1234')).toEqual({
      ok: true,
      value: '1234',
    });
    expect(checkValue({ kind: 'string' }, 123)).toEqual({
      ok: false,
      message: 'expected a non-empty string, got 123',
    });
  });

  it('never shows a secret', () => {
    const secret: FieldType = { kind: 'string', secret: true };
    expect(checkValue(secret, 1234)).toEqual({
      ok: false,
      message: 'expected a non-empty string, got a number',
    });
    expect(checkValue(secret, '')).toEqual({
      ok: false,
      message: 'expected a non-empty string, got a string (value hidden)',
    });
  });

  it('lists the valid values of an enum', () => {
    const engine: FieldType = { kind: 'enum', values: ['memory', 'redis', 'postgres'] };
    expect(checkValue(engine, 'mysql')).toEqual({
      ok: false,
      message: 'expected one of "memory", "redis", "postgres", got "mysql"',
    });
  });

  it('accepts safe SQL identifiers only', () => {
    const id: FieldType = { kind: 'identifier', maxLength: 63 };
    expect(checkValue(id, 'rate_limiter_state')).toEqual({ ok: true, value: 'rate_limiter_state' });
    expect(checkValue(id, `_${'a'.repeat(62)}`).ok).toBe(true);
    expect(checkValue(id, `_${'a'.repeat(63)}`).ok).toBe(false);
    const injection = checkValue(id, 'x; drop table y');
    expect(injection).toEqual({
      ok: false,
      message:
        'expected a SQL identifier: a letter or _, then letters, digits or _, 63 characters at most, got "x; drop table y"',
    });
    const long = checkValue(id, 'a'.repeat(100));
    expect(long.ok).toBe(false);
    expect(!long.ok && long.message).toContain('(100 characters)');
    expect(checkValue(id, '1abc').ok).toBe(false);
    expect(checkValue(id, 'a"b').ok).toBe(false);
  });

  it('rejects forbidden characters in a string', () => {
    const prefix: FieldType = {
      kind: 'string',
      forbidden: { chars: /[{}]/, expected: 'no braces' },
    };
    expect(checkValue(prefix, 'app:rl')).toEqual({ ok: true, value: 'app:rl' });
    expect(checkValue(prefix, 'app{x}')).toEqual({
      ok: false,
      message: 'expected no braces, got "app{x}"',
    });
  });

  it('checks URL schemes per engine and hides credentials', () => {
    const url: FieldType = { kind: 'url' };
    expect(checkValue(url, 'rediss://h:6380', 'redis').ok).toBe(true);
    expect(checkValue(url, 'postgresql://u:p@h/db', 'postgres').ok).toBe(true);
    expect(checkValue(url, 'http://user:s3cret@h', 'redis')).toEqual({
      ok: false,
      message: 'expected a redis:// or rediss:// URL, got "http://***@h"',
    });
    expect(checkValue(url, 'redis://h', 'postgres').ok).toBe(false);
    expect(checkValue(url, 'localhost:6379', 'redis').ok).toBe(false);
  });

  it('checks host:port lists', () => {
    const nodes: FieldType = { kind: 'host-port-list' };
    expect(checkValue(nodes, ['a:7000', '10.0.0.1:7001', '[::1]:7002'])).toEqual({
      ok: true,
      value: ['a:7000', '10.0.0.1:7001', '[::1]:7002'],
    });
    expect(checkValue(nodes, [])).toEqual({
      ok: false,
      message: 'expected a non-empty array of "host:port" strings, got an empty array',
    });
    expect(checkValue(nodes, ['a:7000', 'b'])).toEqual({
      ok: false,
      message: 'expected a non-empty array of "host:port" strings, but one item is "b"',
    });
    expect(checkValue(nodes, ['a:70000']).ok).toBe(false);
    expect(checkValue(nodes, 'a:7000').ok).toBe(false);
  });

  it('checks CIDR lists', () => {
    const cidrs: FieldType = { kind: 'cidr-list' };
    expect(checkValue(cidrs, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']).ok).toBe(true);
    expect(checkValue(cidrs, ['10.0.0.0/33']).ok).toBe(false);
    expect(checkValue(cidrs, ['300.0.0.0/8']).ok).toBe(false);
    expect(checkValue(cidrs, ['example.com']).ok).toBe(false);
  });
});
