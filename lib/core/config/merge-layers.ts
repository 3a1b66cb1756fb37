import { type ConfigLayer, type LayeredValue, locate } from './config-layer';
import { didYouMean } from './did-you-mean';
import { describeValue } from './describe-value';
import { isTable } from './interpolate';
import type { ProblemList } from './problem-list';
import {
  FASTAPI_FIELDS,
  type FieldSpec,
  LIMITER_FIELDS,
  STORE_FIELDS,
  TOP_LEVEL_KEYS,
} from './schema';

/** One store, limiter or `[fastapi]` table, merged over every layer that defines it. */
export interface MergedTable {
  /** `['limiters', 'api']`, `['fastapi']`. */
  readonly path: readonly string[];
  readonly fields: readonly FieldSpec[];
  /** Known keys by TOML name; a later layer's value replaced an earlier one's. */
  readonly values: Map<string, LayeredValue>;
  /** Keys that are not in `fields`, from every layer. */
  readonly unknown: LayeredValue[];
  /** The layers that define this table, in order. */
  readonly layers: ConfigLayer[];
}

/** Every table of every layer, merged by id. */
export interface MergedConfig {
  readonly stores: Map<string, MergedTable>;
  readonly limiters: Map<string, MergedTable>;
  readonly fastapi?: MergedTable;
}

const SECTION_FIELDS: Record<string, readonly FieldSpec[]> = {
  stores: STORE_FIELDS,
  limiters: LIMITER_FIELDS,
};

/**
 * Merges the layers table by table and key by key: a limiter defined in the file and inline
 * keeps the file's keys and takes the inline ones over them. Structural problems (a section or
 * table that is not a table, an unknown top-level key) are reported here.
 */
export function mergeLayers(layers: readonly ConfigLayer[], problems: ProblemList): MergedConfig {
  const merged = {
    stores: new Map<string, MergedTable>(),
    limiters: new Map<string, MergedTable>(),
  };
  let fastapi: MergedTable | undefined;
  for (const layer of layers) {
    if (layer.data === undefined || layer.data === null) continue;
    if (!isTable(layer.data)) {
      problems.add(
        '(root)',
        `expected a table, got ${describeValue(layer.data)}`,
        locate(layer, []),
      );
      continue;
    }
    for (const [key, section] of Object.entries(layer.data)) {
      if (section === undefined) continue;
      if (!TOP_LEVEL_KEYS.includes(key)) {
        const hint = didYouMean(key, TOP_LEVEL_KEYS);
        problems.add([key], `unknown top-level key${hint}`, locate(layer, [key]));
      } else if (!isTable(section)) {
        problems.add(
          [key],
          `expected a table, got ${describeValue(section)}`,
          locate(layer, [key]),
        );
      } else if (key === 'fastapi') {
        fastapi ??= newTable(['fastapi'], FASTAPI_FIELDS);
        addLayer(fastapi, section, layer, problems);
      } else {
        mergeSection(merged[key as 'stores' | 'limiters'], key, section, layer, problems);
      }
    }
  }
  return { ...merged, fastapi };
}

function mergeSection(
  target: Map<string, MergedTable>,
  section: string,
  entries: Record<string, unknown>,
  layer: ConfigLayer,
  problems: ProblemList,
): void {
  for (const [id, body] of Object.entries(entries)) {
    if (body === undefined) continue;
    const path = [section, id];
    if (!isTable(body)) {
      problems.add(
        path,
        `expected a table of options, got ${describeValue(body)}`,
        locate(layer, path),
      );
      continue;
    }
    let table = target.get(id);
    if (!table) target.set(id, (table = newTable(path, SECTION_FIELDS[section])));
    addLayer(table, body, layer, problems);
  }
}

function newTable(path: readonly string[], fields: readonly FieldSpec[]): MergedTable {
  return { path, fields, values: new Map(), unknown: [], layers: [] };
}

function addLayer(
  table: MergedTable,
  body: Record<string, unknown>,
  layer: ConfigLayer,
  problems: ProblemList,
): void {
  table.layers.push(layer);
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    const spec = table.fields.find(
      (f) => f.name === key || (layer.spelling === 'camel' && f.camel === key),
    );
    if (!spec) {
      table.unknown.push({ key, value, layer });
      continue;
    }
    const earlier = seen.get(spec.name);
    if (earlier !== undefined) {
      const path = [...table.path, key];
      problems.add(path, `given twice, as ${earlier} and ${key}; keep one`, locate(layer, path));
      continue;
    }
    seen.set(spec.name, key);
    table.values.set(spec.name, { key, value, layer });
  }
}
