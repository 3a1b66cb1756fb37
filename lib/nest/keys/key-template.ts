import { InvalidArgumentError } from '../../core';
import type { KeySource, RequestLike } from './key-source';

/** What a missing template field is counted under (see docs/nestjs.md, "Keys"). */
export const MISSING_FIELD_PLACEHOLDER = '-';

/** The request fields templates may name, besides argument indexes. */
const REQUEST_SOURCES = ['ip', 'body', 'user', 'headers', 'params', 'query', 'args'] as const;

/** One `{...}` placeholder: a source and a property path. */
interface Field {
  /** The placeholder as written, e.g. `body.email`. */
  readonly text: string;
  /** A request source, or an argument index. */
  readonly source: (typeof REQUEST_SOURCES)[number] | number;
  readonly path: readonly string[];
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
 * Compiles a key template such as `'login:{body.email}'`, `'{ip}:{headers.x-tenant-id}'` or
 * `'{1.tenantId}'`. Placeholders: `{ip}`, `{body.a.b}`, `{user.id}`, `{headers.name}`,
 * `{params.id}`, `{query.x}`, `{args.id}` (a GraphQL resolver's arguments), and `{N}` / `{N.a.b}`
 * for the N-th argument.
 *
 * @throws InvalidArgumentError (`key`) for an unknown source or a malformed placeholder
 */
export function compileKeyTemplate(template: string): KeyTemplate {
  const literals: string[] = [];
  const fields: Field[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{([^{}]*)\}/g)) {
    literals.push(template.slice(last, match.index));
    fields.push(parseField(template, match[1]));
    last = match.index + match[0].length;
  }
  literals.push(template.slice(last));
  if (literals.some((l) => /[{}]/.test(l))) {
    throw new InvalidArgumentError('key', `unbalanced brace in key template '${template}'`);
  }
  return {
    template,
    readsRequest: fields.some((f) => typeof f.source === 'string'),
    render(source) {
      const missing: string[] = [];
      let key = literals[0];
      fields.forEach((field, i) => {
        const value = keyValue(readField(field, source));
        if (value === undefined) missing.push(field.text);
        key += (value ?? MISSING_FIELD_PLACEHOLDER) + literals[i + 1];
      });
      return { key, missing };
    },
  };
}

function parseField(template: string, text: string): Field {
  const [head, ...path] = text.trim().split('.');
  const bad = (why: string): never => {
    throw new InvalidArgumentError('key', `placeholder {${text}} in '${template}': ${why}`);
  };
  if (path.some((p) => p === '')) bad('empty property name');
  if (/^\d+$/.test(head)) return { text, source: Number(head), path };
  const source = REQUEST_SOURCES.find((s) => s === head);
  if (!source) {
    bad(`unknown source '${head}'; use ${REQUEST_SOURCES.join(', ')} or an argument index`);
  }
  if (source === 'ip' && path.length) bad('{ip} takes no property');
  if (source !== 'ip' && !path.length) bad(`name a property, e.g. {${source}.id}`);
  if (source === 'headers') return { text, source, path: [path.join('.').toLowerCase()] };
  return { text, source: source as Field['source'], path };
}

function readField(field: Field, source: KeySource): unknown {
  if (field.source === 'ip') return source.ip();
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
function keyValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}
