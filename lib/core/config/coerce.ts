import { checkClient, checkPemFile } from './check-client';
import { checkUrl } from './check-url';
import { describeValue } from './describe-value';
import type { FieldType } from './schema';

/** The outcome of checking one value: the value to use, or what was expected instead. */
export type Checked =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** A decimal number as written in TOML or an env variable: `10`, `-2.5`, `1e3`, `.5`. */
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A plain SQL identifier (its length is checked separately). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const IPV4_CIDR = /^(\d{1,3})(?:\.(\d{1,3})){3}(?:\/(\d{1,2}))?$/;
const IPV6_CIDR = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:\/(\d{1,3}))?$/;

/**
 * Checks `value` against `type`, coercing only where the type asks for it: a numeric string
 * (typically from env interpolation) becomes a number for a number field, and `"true"` /
 * `"false"` become booleans for a boolean field. A string field keeps numeric-looking strings
 * as they are. `engine` selects the URL schemes accepted for a `url` field. `written` is the
 * value as written when it came from the environment (`"${API_TOKEN}"`): messages show it
 * instead of the value.
 */
export function checkValue(
  type: FieldType,
  value: unknown,
  engine?: string,
  written?: unknown,
): Checked {
  const fail = (expected: string): Checked => ({
    ok: false,
    message: `expected ${expected}, got ${describeValue(written ?? value, {
      secret: type.kind === 'string' && type.secret,
      url: type.kind === 'url',
    })}`,
  });
  switch (type.kind) {
    case 'number':
    case 'integer': {
      const n = toNumber(value);
      const strict = type.kind === 'number' && !type.inclusive;
      const noun = type.kind === 'integer' ? 'an integer' : 'a number';
      const expected = `${noun} ${strict ? '>' : '>='} ${type.min}`;
      const inRange = n !== undefined && (strict ? n > type.min : n >= type.min);
      if (!inRange || !Number.isFinite(n) || (type.kind === 'integer' && !Number.isInteger(n))) {
        return fail(expected);
      }
      if (type.max && n > type.max.value) {
        return fail(`${noun} <= ${type.max.value} (${type.max.why})`);
      }
      return { ok: true, value: n };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
      return fail('true or false');
    }
    case 'string':
      if (typeof value !== 'string' || value === '') {
        return fail(type.forbidden?.expected ?? 'a non-empty string');
      }
      return type.forbidden?.chars.test(value)
        ? fail(type.forbidden.expected)
        : { ok: true, value };
    case 'enum':
      return typeof value === 'string' && type.values.includes(value)
        ? { ok: true, value }
        : fail(`one of ${type.values.map((v) => `"${v}"`).join(', ')}`);
    case 'identifier':
      return typeof value === 'string' && IDENTIFIER.test(value) && value.length <= type.maxLength
        ? { ok: true, value }
        : fail(
            `a SQL identifier: a letter or _, then letters, digits or _, ${type.maxLength} characters at most`,
          );
    case 'url':
      return checkUrl(value, engine, written === undefined ? undefined : fail);
    case 'client':
      return checkClient(value, engine);
    case 'pem-file':
      return typeof value === 'string' && value !== ''
        ? checkPemFile(value)
        : fail('the path of a PEM file');
    case 'host-port-list':
      return checkList(
        value,
        isHostPort,
        'a non-empty array of "host:port" strings',
        fail,
        written,
      );
    case 'cidr-list':
      return checkList(
        value,
        isCidr,
        'an array of IP addresses or CIDR ranges',
        fail,
        written,
        true,
      );
  }
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && NUMERIC.test(value.trim())) return Number(value.trim());
  return undefined;
}

function checkList(
  value: unknown,
  accepts: (item: string) => boolean,
  expected: string,
  fail: (e: string) => Checked,
  written: unknown,
  allowEmpty = false,
): Checked {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) return fail(expected);
  const bad = value.findIndex((item) => typeof item !== 'string' || !accepts(item));
  if (bad < 0) return { ok: true, value: [...value] };
  const shown = Array.isArray(written) ? written[bad] : value[bad];
  return { ok: false, message: `expected ${expected}, but one item is ${describeValue(shown)}` };
}

function isHostPort(text: string): boolean {
  const port = HOST_PORT.exec(text)?.[1];
  return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
}

function isCidr(text: string): boolean {
  const v4 = IPV4_CIDR.exec(text);
  if (v4) {
    const octetsOk = text
      .split('/')[0]
      .split('.')
      .every((o) => Number(o) <= 255);
    return octetsOk && (v4[3] === undefined || Number(v4[3]) <= 32);
  }
  const v6 = IPV6_CIDR.exec(text);
  return v6 !== null && (v6[1] === undefined || Number(v6[1]) <= 128);
}
