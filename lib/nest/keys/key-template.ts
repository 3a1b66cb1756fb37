import { InvalidArgumentError } from '../../core';
import { didYouMean } from '../../core/config/did-you-mean';
import { DEFAULT_IPV6_SUBNET, ipNetwork } from '../http/ip-address';
import { FILTER_NAMES, IPV6_FILTER, TEXT_FILTERS, type TextFilter } from './key-filters';
import type { KeySource, RequestLike } from './key-source';

/** What a missing template field is counted under (see docs/nestjs.md, "Keys"). */
export const MISSING_FIELD_PLACEHOLDER = '-';

/** The request fields templates may name, besides argument indexes. */
const REQUEST_SOURCES = ['ip', 'body', 'user', 'headers', 'params', 'query', 'args'] as const;

/** One `{...}` placeholder: a source, a property path and filters. */
interface Field {
  /** The placeholder as written, e.g. `body.email|email`. */
  readonly text: string;
  /** A request source, or an argument index. */
  readonly source: (typeof REQUEST_SOURCES)[number] | number;
  readonly path: readonly string[];
  readonly filters: readonly TextFilter[];
  /** `{ip|v6/N}`: the IPv6 prefix length; else the module's `ipv6Subnet`. */
  readonly ipv6Subnet?: number;
  /** Characters percent-encoded in the value besides `%`: the separator that follows it. */
  readonly escape: string;
}

/** A compiled key template: render it per call. */
export interface KeyTemplate {
  readonly template: string;
  /** True when a placeholder reads the HTTP request (`{ip}`, `{body.x}`...). */
  readonly readsRequest: boolean;
  /** The key, and the placeholders that were missing (counted as {@link MISSING_FIELD_PLACEHOLDER}). */
  render(source: KeySource): { key: string; missing: string[] };
}

/**
 * Compiles a key template such as `'login:{body.email|email}'`, `'{ip}:{headers.x-tenant-id}'`
 * or `'{1.tenantId}'`. Placeholders: `{ip}`, `{body.a.b}`, `{user.id}`, `{headers.name}`,
 * `{params.id}`, `{query.x}`, `{args.id}` (a GraphQL resolver's arguments), and `{N}` /
 * `{N.a.b}` for the N-th argument, each optionally followed by filters: `|trim`, `|nfkc`,
 * `|lower`, `|email` (all three), and on `{ip}` `|v6/N` (IPv6 clients counted by their /N
 * network).
 *
 * Each value is escaped so that two different tuples of values never render the same key: `%`
 * and the first character of the literal text that follows the placeholder are
 * percent-encoded (UTF-8 bytes, as `escapeKeyPart` does), and a value that reads exactly `-`
 * becomes `%2d` (`-` alone stands for a missing value).
 *
 * @param context where the template is declared, for messages (`in @RateLimit on A.b`)
 * @throws InvalidArgumentError (`key`) for an unknown source or filter, a malformed
 *   placeholder, or a placeholder followed by another, by a digit or by `%`
 */
export function compileKeyTemplate(template: string, context?: string): KeyTemplate {
  const where = `'${template}'${context ? ` (${context})` : ''}`;
  const literals: string[] = [];
  const parsed: Omit<Field, 'escape'>[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{([^{}]*)\}/g)) {
    literals.push(template.slice(last, match.index));
    parsed.push(parseField(where, match[1]));
    last = match.index + match[0].length;
  }
  literals.push(template.slice(last));
  if (literals.some((l) => /[{}]/.test(l))) {
    throw new InvalidArgumentError('key', `unbalanced brace in key template ${where}`);
  }
  const fields = parsed.map((field, i) => ({
    ...field,
    escape: separatorAfter(where, field.text, literals[i + 1], i === parsed.length - 1),
  }));
  return {
    template,
    readsRequest: fields.some((f) => typeof f.source === 'string'),
    render(source) {
      const missing: string[] = [];
      let key = literals[0];
      fields.forEach((field, i) => {
        const value = fieldText(field, source);
        if (value === undefined) missing.push(field.text);
        key += (value ?? MISSING_FIELD_PLACEHOLDER) + literals[i + 1];
      });
      return { key, missing };
    },
  };
}

/**
 * What the client counts as when no key is given, and what `{ip}` renders: the client
 * identifier (by default its IP), IPv6 grouped by `prefixLength`, else the source's
 * `ipv6Subnet`. Undefined when unknown.
 */
export function clientKey(
  source: KeySource,
  prefixLength = source.ipv6Subnet ?? DEFAULT_IPV6_SUBNET,
): string | undefined {
  const ip = source.ip();
  return ip === undefined ? undefined : ipNetwork(ip, prefixLength);
}

/**
 * The characters to escape in a field's value so that the value ends where the literal text
 * after it starts: that text's first character. Escapes are `%` + two hex digits, so that
 * character may not be a digit or `%`, and two placeholders need text between them.
 */
function separatorAfter(where: string, field: string, next: string, isLast: boolean): string {
  if (next === '' && isLast) return '';
  const bad = (why: string): never => {
    throw new InvalidArgumentError('key', `placeholder {${field}} in ${where}: ${why}`);
  };
  if (next === '') bad("put a separator such as ':' before the next placeholder");
  if (/^[0-9%]/.test(next))
    bad(`a separator after it must not be a digit or '%', got '${next[0]}'`);
  return String.fromCodePoint(next.codePointAt(0)!);
}

function parseField(where: string, placeholder: string): Omit<Field, 'escape'> {
  const [text, ...filterNames] = placeholder.split('|').map((part) => part.trim());
  const [head, ...path] = text.split('.');
  const bad = (why: string): never => {
    throw new InvalidArgumentError('key', `placeholder {${placeholder}} in ${where}: ${why}`);
  };
  if (path.some((p) => p === '')) bad('empty property name');
  const source: Field['source'] | undefined = /^\d+$/.test(head)
    ? Number(head)
    : REQUEST_SOURCES.find((s) => s === head);
  if (source === undefined) {
    const hint = didYouMean(head, REQUEST_SOURCES, "'");
    bad(
      `unknown source '${head}'${hint || ';'} use ${REQUEST_SOURCES.join(', ')} or an argument index`,
    );
  }
  if (source === 'ip' && path.length) bad('{ip} takes no property');
  if (typeof source === 'string' && source !== 'ip' && !path.length) {
    bad(`name a property, e.g. {${source}.id}`);
  }
  const filters: TextFilter[] = [];
  let ipv6Subnet: number | undefined;
  for (const name of filterNames) {
    const subnet = IPV6_FILTER.exec(name);
    if (subnet) {
      ipv6Subnet = Number(subnet[1]);
      if (source !== 'ip') bad(`the filter '${name}' applies to {ip} only`);
      if (!(ipv6Subnet >= 1 && ipv6Subnet <= 128)) bad(`'${name}': the prefix length is 1 to 128`);
    } else if (Object.prototype.hasOwnProperty.call(TEXT_FILTERS, name)) {
      filters.push(TEXT_FILTERS[name]);
    } else {
      const hint = didYouMean(name, FILTER_NAMES, "'");
      bad(`unknown filter '${name}'${hint || ';'} use ${FILTER_NAMES.join(', ')}`);
    }
  }
  const fieldPath = source === 'headers' ? [path.join('.').toLowerCase()] : path;
  return { text: placeholder.trim(), source: source!, path: fieldPath, filters, ipv6Subnet };
}

/** A field's text, filtered and escaped; undefined when missing. */
function fieldText(field: Field, source: KeySource): string | undefined {
  let value =
    field.source === 'ip'
      ? clientKey(source, field.ipv6Subnet)
      : keyValue(readField(field, source));
  for (const filter of field.filters) if (value !== undefined) value = filter(value);
  // The guard's tracker answers '-' for a client whose address is unknown.
  if (value === undefined || value === '' || (field.source === 'ip' && value === '-')) {
    return undefined;
  }
  return escapeValue(value, field.escape);
}

/** Percent-encodes `%` and `separator` (UTF-8 bytes, lower-case hex); `-` alone becomes `%2d`. */
export function escapeValue(value: string, separator: string): string {
  if (value === MISSING_FIELD_PLACEHOLDER) return '%2d';
  if (!value.includes('%') && (separator === '' || !value.includes(separator))) return value;
  let out = '';
  for (const char of value) {
    out +=
      char === '%' || char === separator
        ? Array.from(Buffer.from(char, 'utf8'), (b) => `%${b.toString(16).padStart(2, '0')}`).join(
            '',
          )
        : char;
  }
  return out;
}

function readField(field: Field, source: KeySource): unknown {
  let value: unknown =
    typeof field.source === 'number'
      ? source.args[field.source]
      : field.source === 'args'
        ? source.resolverArgs
        : source.request?.[field.source as keyof RequestLike];
  for (const prop of field.path) {
    if (value === null || typeof value !== 'object') return undefined;
    // Own properties only: `{body.constructor}` must not reach the prototype.
    value = Object.prototype.hasOwnProperty.call(value, prop)
      ? (value as Record<string, unknown>)[prop]
      : undefined;
  }
  return value;
}

/**
 * A field's text: strings as sent, numbers, booleans and bigints printed. Absent, empty,
 * null, object or array values are "missing": lumping malformed input together under the
 * placeholder keeps it limited (one bucket), instead of one bucket per crafted payload.
 */
export function keyValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}
