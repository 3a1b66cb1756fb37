import type { EngineName, StoreOptions } from '../options';
import { checkValue } from './coerce';
import { UNRESOLVED } from './interpolate';
import type { MergedTable } from './merge-layers';
import type { ProblemList } from './problem-list';
import { ENGINES, type FieldSpec, LIMITER_FIELDS } from './schema';
import {
  checkTableFields,
  keyName,
  shownValue,
  tableLocation,
  valueLocation,
} from './table-fields';

/**
 * Validates one merged `[stores.<id>]` table and returns its camelCase options, or undefined
 * when it has problems (all of which are added to `problems`).
 */
export function validateStore(table: MergedTable, problems: ProblemList): StoreOptions | undefined {
  const before = problems.count;
  const engine = resolveEngine(table, problems);
  const { values, present } = checkTableFields(table, problems, {
    engine,
    notApplicable: (spec) => (engine ? wrongEngine(spec, engine) : undefined),
    otherFields: { noun: 'limiter', fields: LIMITER_FIELDS },
  });

  if (engine === 'postgres' && !present.has('url')) {
    problems.add(
      [...table.path, keyName(table, 'url')],
      'required for a postgres store',
      tableLocation(table),
    );
  }
  if (engine === 'redis' && !present.has('url') && !present.has('cluster_nodes')) {
    const [url, nodes] = [keyName(table, 'url'), keyName(table, 'cluster_nodes')];
    problems.add(
      [...table.path, url],
      `required for a redis store (or give ${nodes})`,
      tableLocation(table),
    );
  }
  const [min, max] = [values.get('pool_min_size'), values.get('pool_max_size')];
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    const minKey = keyName(table, 'pool_min_size');
    problems.add(
      [...table.path, minKey],
      `${minKey} (${shownValue(table, 'pool_min_size')}) is larger than ` +
        `${keyName(table, 'pool_max_size')} (${shownValue(table, 'pool_max_size')})`,
      valueLocation(table, 'pool_min_size'),
    );
  }
  if (problems.count > before || engine === undefined) return undefined;

  const options: Record<string, unknown> = {};
  for (const spec of table.fields) {
    if (!spec.ignored && values.has(spec.name)) options[spec.camel] = values.get(spec.name);
  }
  return options as unknown as StoreOptions;
}

/** The store's engine, reporting it missing or invalid; undefined when unknown. */
function resolveEngine(table: MergedTable, problems: ProblemList): EngineName | undefined {
  const given = table.values.get('engine');
  const spec = table.fields.find((f) => f.name === 'engine') as FieldSpec;
  if (!given) {
    const expected = ENGINES.map((e) => `"${e}"`).join(', ');
    problems.add([...table.path, 'engine'], `required: one of ${expected}`, tableLocation(table));
    return undefined;
  }
  if (given.value === UNRESOLVED) return undefined;
  const checked = checkValue(spec.type, given.value);
  // The message is reported by checkTableFields, with every other key.
  return checked.ok ? (checked.value as EngineName) : undefined;
}

function wrongEngine(spec: FieldSpec, engine: EngineName): string | undefined {
  if (!spec.engines || spec.engines.includes(engine)) return undefined;
  const owners = spec.engines.join(' and ');
  return `applies only to ${owners} stores, and this store's engine is "${engine}"`;
}
