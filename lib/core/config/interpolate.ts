import { pathKey } from './config-path';
import { setOwn } from './own-property';

/**
 * Stands in for a value whose interpolation failed. The failure is already reported, so the
 * validator skips this value instead of reporting it a second time.
 */
export const UNRESOLVED: unique symbol = Symbol('rate-sync.unresolved');

/** Reports a problem at a path of the raw (not yet interpolated) data. */
export type ReportProblem = (rawPath: readonly string[], message: string) => void;

/** The interpolated data, and a map back to the keys as written in the file. */
export interface Interpolated {
  readonly data: Record<string, unknown>;
  /** The path as written in the file (before interpolation) of a path of `data`. */
  rawPathOf(path: readonly string[]): string[];
}

const NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

interface Expanded {
  readonly value: string;
  /** The text was nothing but `${...}` references. */
  readonly onlyReferences: boolean;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every key and string value of `data` (tables and
 * arrays, recursively). `${VAR:-default}` uses the default when VAR is unset or empty, as a
 * shell does; the default may be empty. An unset `${VAR}` and a malformed reference are
 * reported with the path and the variable's name. Substituted text is not scanned again, so a
 * variable's value may contain `${`.
 *
 * A table value made only of references that resolves to the empty string (the Python
 * library's `url = "${RATE_LIMIT_URL:-}"`) is treated as not set and removed, so an optional
 * key can be switched off from the environment.
 */
export function interpolateEnv(
  data: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  report: ReportProblem,
): Interpolated {
  const rawPaths = new Map<string, string[]>();

  const expand = (text: string, rawPath: readonly string[]): Expanded | undefined => {
    let out = '';
    let onlyReferences = text.includes('${');
    let failed = false;
    let from = 0;
    for (let at = text.indexOf('${'); at >= 0; at = text.indexOf('${', from)) {
      if (text.slice(from, at) !== '') onlyReferences = false;
      out += text.slice(from, at);
      const end = text.indexOf('}', at + 2);
      const inner = end < 0 ? undefined : text.slice(at + 2, end).match(NAME);
      if (end < 0 || !inner) {
        const shown = end < 0 ? text.slice(at) : text.slice(at, end + 1);
        report(rawPath, `malformed env reference ${shown}; use \${VAR} or \${VAR:-default}`);
        return undefined;
      }
      const [, name, fallback] = inner;
      const value = env[name];
      if (fallback !== undefined) {
        out += value === undefined || value === '' ? fallback : value;
      } else if (value === undefined) {
        report(rawPath, `env variable ${name} is not set; set it or write \${${name}:-default}`);
        failed = true;
      } else {
        out += value;
      }
      from = end + 1;
    }
    if (text.slice(from) !== '') onlyReferences = false;
    return failed ? undefined : { value: out + text.slice(from), onlyReferences };
  };

  const walk = (value: unknown, path: string[], rawPath: string[]): unknown => {
    if (typeof value === 'string') return expand(value, rawPath)?.value ?? UNRESOLVED;
    if (Array.isArray(value)) {
      return value.map((item, i) => walk(item, [...path, String(i)], [...rawPath, String(i)]));
    }
    if (!isTable(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [rawKey, item] of Object.entries(value)) {
      const itemRawPath = [...rawPath, rawKey];
      const key = expand(rawKey, itemRawPath)?.value ?? rawKey;
      if (key === '') {
        report(itemRawPath, 'this key is empty after env interpolation');
        continue;
      }
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        const why = key === rawKey ? 'another key becomes' : 'this key becomes';
        report(itemRawPath, `defined twice: ${why} "${key}" after env interpolation`);
        continue;
      }
      const itemPath = [...path, key];
      if (typeof item === 'string') {
        const expanded = expand(item, itemRawPath);
        if (expanded?.onlyReferences && expanded.value === '') continue;
        setOwn(out, key, expanded?.value ?? UNRESOLVED);
      } else {
        setOwn(out, key, walk(item, itemPath, itemRawPath));
      }
      rawPaths.set(pathKey(itemPath), itemRawPath);
    }
    return out;
  };

  const result = walk(data, [], []) as Record<string, unknown>;
  return {
    data: result,
    rawPathOf(path) {
      for (let i = path.length; i > 0; i--) {
        const raw = rawPaths.get(pathKey(path.slice(0, i)));
        if (raw) return [...raw, ...path.slice(i)];
      }
      return [...path];
    },
  };
}

/** A plain table (TOML table or object literal), not an array, date or class instance. */
export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The raw (not interpolated) value at `rawPath` of `data` when it holds a `${...}` reference
 * (a string, or an array with such a string), else undefined: what messages show in place of
 * a value that came from the environment.
 */
export function writtenWithReference(data: unknown, rawPath: readonly string[]): unknown {
  let value: unknown = data;
  for (const key of rawPath) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Object.prototype.hasOwnProperty.call(value, key)
      ? (value as Record<string, unknown>)[key]
      : undefined;
  }
  const hasReference = (v: unknown): boolean => typeof v === 'string' && v.includes('${');
  if (hasReference(value)) return value;
  return Array.isArray(value) && value.some(hasReference) ? value : undefined;
}
