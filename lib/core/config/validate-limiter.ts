import type { AlgorithmName, LimiterOptions } from '../options';
import { checkValue } from './coerce';
import { didYouMean } from './did-you-mean';
import { UNRESOLVED } from './interpolate';
import type { MergedTable } from './merge-layers';
import type { ProblemList } from './problem-list';
import { type FieldSpec, MAX_LONG_SECONDS, STORE_FIELDS } from './schema';
import {
  checkTableFields,
  keyName,
  shownValue,
  tableLocation,
  valueLocation,
} from './table-fields';

const DEFAULT_ALGORITHM: AlgorithmName = 'token_bucket';

/**
 * Validates one merged `[limiters.<id>]` table against the defined store ids and returns its
 * camelCase options (with `algorithm` always set), or undefined when it has problems (all of
 * which are added to `problems`).
 */
export function validateLimiter(
  table: MergedTable,
  storeIds: readonly string[],
  problems: ProblemList,
): LimiterOptions | undefined {
  const before = problems.count;
  const algorithm = resolveAlgorithm(table);
  const { values, present } = checkTableFields(table, problems, {
    ignored: (spec) => (algorithm ? wrongAlgorithm(table, spec, algorithm) : undefined),
    otherFields: { noun: 'store', fields: STORE_FIELDS },
  });
  const name = (key: string): string => keyName(table, key);
  const at = (key: string): string[] => [...table.path, name(key)];

  checkStore(table, values.get('store'), present.has('store'), storeIds, problems);
  if (
    algorithm === 'token_bucket' &&
    !present.has('rate_per_second') &&
    !present.has('max_concurrent')
  ) {
    const needs = `${name('rate_per_second')}, ${name('max_concurrent')} or both`;
    problems.add(table.path, `a token_bucket limiter needs ${needs}`, tableLocation(table));
  }
  if (algorithm === 'token_bucket' && present.has('burst') && !present.has('rate_per_second')) {
    const message = `${name('burst')} needs ${name('rate_per_second')}: it sizes the rate's bucket`;
    problems.add(at('burst'), message, valueLocation(table, 'burst'));
  }
  if (algorithm === 'sliding_window') {
    for (const key of ['limit', 'window_seconds'].filter((k) => !present.has(k))) {
      problems.add(at(key), 'required for a sliding_window limiter', tableLocation(table));
    }
  }
  const rate = values.get('rate_per_second');
  if (typeof rate === 'number' && rate < 1 / MAX_LONG_SECONDS) {
    const message = `expected at least one per 365 days (1/${MAX_LONG_SECONDS}), got ${shownValue(table, 'rate_per_second')}`;
    problems.add(at('rate_per_second'), message, valueLocation(table, 'rate_per_second'));
  }
  for (const key of ['lease_seconds', 'max_hold_seconds'].filter((k) => present.has(k))) {
    if (present.has('max_concurrent')) continue;
    const message = `${name(key)} applies only with ${name('max_concurrent')}`;
    problems.add(at(key), message, valueLocation(table, key));
  }
  if (
    present.has('block_seconds') &&
    algorithm !== 'sliding_window' &&
    !present.has('rate_per_second')
  ) {
    const message = `${name('block_seconds')} applies only with ${name('rate_per_second')} or a sliding window: it blocks a key after a rejection for its rate`;
    problems.add(at('block_seconds'), message, valueLocation(table, 'block_seconds'));
  }
  const [closed, policy] = [values.get('fail_closed'), values.get('on_store_failure')];
  if (
    typeof closed === 'boolean' &&
    typeof policy === 'string' &&
    (closed ? 'closed' : 'open') !== policy
  ) {
    const message =
      `${shownValue(table, 'on_store_failure')} disagrees with ${name('fail_closed')} = ${closed}: ` +
      `remove ${name('fail_closed')} (${name('on_store_failure')} replaces it) or make them agree`;
    problems.add(at('on_store_failure'), message, valueLocation(table, 'on_store_failure'));
  }
  if (problems.count > before || algorithm === undefined) return undefined;

  const options: Record<string, unknown> = { algorithm };
  for (const spec of table.fields) {
    if (values.has(spec.name)) options[spec.camel] = values.get(spec.name);
  }
  return options as unknown as LimiterOptions;
}

/** The limiter's algorithm (the default when not given); undefined when invalid. */
function resolveAlgorithm(table: MergedTable): AlgorithmName | undefined {
  const given = table.values.get('algorithm');
  if (!given) return DEFAULT_ALGORITHM;
  if (given.value === UNRESOLVED) return undefined;
  const spec = table.fields.find((f) => f.name === 'algorithm') as FieldSpec;
  const checked = checkValue(spec.type, given.value);
  // An invalid value is reported by checkTableFields, with every other key.
  return checked.ok ? (checked.value as AlgorithmName) : undefined;
}

function wrongAlgorithm(
  table: MergedTable,
  spec: FieldSpec,
  algorithm: AlgorithmName,
): string | undefined {
  if (!spec.algorithms || spec.algorithms.includes(algorithm)) return undefined;
  const implicit = table.values.has('algorithm') ? '' : ' (the default)';
  return (
    `applies only to ${spec.algorithms.join(' and ')} limiters, ` +
    `and this limiter's ${keyName(table, 'algorithm')} is "${algorithm}"${implicit}: ` +
    'ignored (as the Python library does); remove it'
  );
}

/** `store` is required (as in the Python library) and must name a defined store. */
function checkStore(
  table: MergedTable,
  store: unknown,
  present: boolean,
  storeIds: readonly string[],
  problems: ProblemList,
): void {
  const known = storeIds.map((id) => `"${id}"`).join(', ');
  const path = [...table.path, keyName(table, 'store')];
  if (!present) {
    const inToml = table.layers.some((l) => l.spelling === 'snake');
    const hint =
      storeIds.length === 0
        ? '; no store is defined: declare one under [stores.<id>]'
        : storeIds.length === 1
          ? `; add ${inToml ? `store = "${storeIds[0]}"` : `store: '${storeIds[0]}'`}`
          : `: name one of the stores ${known}`;
    problems.add(path, `required${hint}`, tableLocation(table));
  } else if (typeof store === 'string' && !storeIds.includes(store)) {
    const hint =
      didYouMean(store, storeIds) ||
      (storeIds.length
        ? `; defined stores: ${known}`
        : `; no store is defined: declare [stores.${store}]`);
    const shown = shownValue(table, 'store');
    problems.add(path, `unknown store ${shown}${hint}`, valueLocation(table, 'store'));
  }
}
