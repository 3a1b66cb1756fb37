import { checkValue } from './coerce';
import { type LayeredValue, locate } from './config-layer';
import { describeValue } from './describe-value';
import { didYouMean } from './did-you-mean';
import { UNRESOLVED } from './interpolate';
import type { MergedTable } from './merge-layers';
import type { ProblemList, ProblemLocation } from './problem-list';
import type { FieldSpec } from './schema';

/** The checked values of one table, by TOML key name. */
export interface CheckedFields {
  /** Valid values, coerced (`"10.0"` became `10` for a number key). */
  readonly values: Map<string, unknown>;
  /** Keys that were given, valid or not: a required key given with a bad value is not "missing". */
  readonly present: Set<string>;
}

/** How to check the keys of one table. */
export interface FieldRules {
  /** Why `spec` does not apply to this table (another engine), or undefined: an error. */
  notApplicable?(spec: FieldSpec): string | undefined;
  /**
   * Why `spec` has no effect in this table (a parameter of another algorithm, which the Python
   * library ignores), or undefined: a warning, and the value is dropped unchecked.
   */
  ignored?(spec: FieldSpec): string | undefined;
  /** The engine, which selects the URL schemes a `url` accepts. */
  readonly engine?: string;
  /** The other kind of table's fields, for a "belongs in a limiter" hint. */
  readonly otherFields?: { readonly noun: string; readonly fields: readonly FieldSpec[] };
}

/**
 * Checks every known key of `table` and reports every unknown one with a "did you mean" hint.
 * Values whose env interpolation failed were reported already and are skipped.
 */
export function checkTableFields(
  table: MergedTable,
  problems: ProblemList,
  rules: FieldRules = {},
): CheckedFields {
  for (const item of table.unknown) reportUnknown(table, item, problems, rules);
  const values = new Map<string, unknown>();
  const present = new Set<string>();
  for (const spec of table.fields) {
    const given = table.values.get(spec.name);
    if (!given) continue;
    const path = [...table.path, given.key];
    const ignored = rules.ignored?.(spec);
    if (ignored !== undefined) {
      problems.warn(path, ignored, locate(given.layer, path));
      continue;
    }
    present.add(spec.name);
    if (isUnresolved(given.value)) continue;
    const reason = rules.notApplicable?.(spec);
    const written = given.layer.written?.(path);
    const checked =
      reason === undefined ? checkValue(spec.type, given.value, rules.engine, written) : undefined;
    if (reason !== undefined) problems.add(path, reason, locate(given.layer, path));
    else if (checked && !checked.ok) problems.add(path, checked.message, locate(given.layer, path));
    else if (checked?.ok) values.set(spec.name, checked.value);
  }
  return { values, present };
}

/** The spelling messages use for keys of `table`: the one its own keys use. */
export function spellingOf(table: MergedTable): 'snake' | 'camel' {
  for (const { key } of table.values.values()) {
    const spec = table.fields.find((f) => f.name === key || f.camel === key);
    if (spec && spec.name !== spec.camel) return key === spec.camel ? 'camel' : 'snake';
  }
  return table.layers[table.layers.length - 1]?.spelling === 'camel' ? 'camel' : 'snake';
}

/** `name` (a TOML key name) as `table` spells keys. */
export function keyName(table: MergedTable, name: string): string {
  const given = table.values.get(name)?.key;
  if (given !== undefined) return given;
  const spec = table.fields.find((f) => f.name === name);
  return spec && spellingOf(table) === 'camel' ? spec.camel : name;
}

/** The location of the table itself: its header in the first file that defines it. */
export function tableLocation(table: MergedTable, key?: string): ProblemLocation {
  const layer = table.layers.find((l) => l.file !== undefined);
  return locate(layer, key === undefined ? table.path : [...table.path, key]);
}

/** Where a given key is. */
export function valueLocation(table: MergedTable, name: string): ProblemLocation {
  const given = table.values.get(name);
  return given ? locate(given.layer, [...table.path, given.key]) : tableLocation(table);
}

function reportUnknown(
  table: MergedTable,
  item: LayeredValue,
  problems: ProblemList,
  rules: FieldRules,
): void {
  const path = [...table.path, item.key];
  const where = locate(item.layer, path);
  const camelSpec = table.fields.find((f) => f.camel === item.key && f.camel !== f.name);
  if (camelSpec) {
    problems.add(path, `TOML keys are snake_case; write \`${camelSpec.name}\``, where);
    return;
  }
  const other = rules.otherFields?.fields.find((f) => f.name === item.key || f.camel === item.key);
  if (other && rules.otherFields) {
    problems.add(path, `unknown key: \`${item.key}\` is a ${rules.otherFields.noun} key`, where);
    return;
  }
  const camel = item.layer.spelling === 'camel' && /[A-Z]/.test(item.key);
  const candidates = table.fields.map((f) => (camel ? f.camel : f.name));
  problems.add(path, `unknown key${didYouMean(item.key, candidates)}`, where);
}

function isUnresolved(value: unknown): boolean {
  return value === UNRESOLVED || (Array.isArray(value) && value.includes(UNRESOLVED));
}

/**
 * A given value for a message: as written when it came from the environment (`"${STORE}"`),
 * else the value (see {@link describeValue}).
 */
export function shownValue(table: MergedTable, name: string): string {
  const given = table.values.get(name);
  if (!given) return 'nothing';
  const written = given.layer.written?.([...table.path, given.key]);
  return describeValue(written ?? given.value);
}
