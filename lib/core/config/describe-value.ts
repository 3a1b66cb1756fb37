import { redactUrl } from './redact';

/** Longest string shown in a message; longer ones are cut and their length given. */
const MAX_SHOWN = 40;

/**
 * Describes a config value for an error message: strings quoted (`"fast"`), long strings cut,
 * URLs with their credentials hidden, secrets reduced to their type (`a string`), and tables,
 * arrays and dates by kind.
 */
export function describeValue(
  value: unknown,
  how: { secret?: boolean; url?: boolean } = {},
): string {
  if (typeof value === 'string') {
    if (how.secret) return 'a string (value hidden)';
    const shown = how.url ? redactUrl(value) : value;
    if (shown.length <= MAX_SHOWN) return JSON.stringify(shown);
    return `${JSON.stringify(shown.slice(0, MAX_SHOWN))}... (${shown.length} characters)`;
  }
  if (how.secret) return kindOf(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  return kindOf(value);
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  // smol-toml's TomlDate extends Date, so TOML dates are caught here.
  if (value instanceof Date) return 'a date';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a table';
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}
