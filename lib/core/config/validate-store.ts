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

  if (engine === 'redis') checkRedisTarget(table, present, problems);
  if (engine === 'redis' || engine === 'postgres') {
    checkClientAlone(table, present, problems);
    checkTlsFiles(table, present, problems);
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

/** The connection options a given `client` replaces: they are the client's own. */
const CLIENT_REPLACES = [
  'driver',
  'url',
  'password',
  'username',
  'db',
  'cluster_nodes',
  'sentinels',
  'sentinel_name',
  'sentinel_password',
  'tls_ca_file',
  'tls_cert_file',
  'tls_key_file',
  'ssl_mode',
  'pool_min_size',
  'pool_max_size',
  'socket_connect_timeout',
];

/** `client` with a connection option: which one would apply is unclear, so neither does. */
function checkClientAlone(table: MergedTable, present: Set<string>, problems: ProblemList): void {
  if (!present.has('client')) return;
  for (const name of CLIENT_REPLACES) {
    if (!present.has(name)) continue;
    problems.add(
      [...table.path, keyName(table, name)],
      `not used with ${keyName(table, 'client')}: the client's own connection options apply; ` +
        `remove ${keyName(table, name)}, or remove ${keyName(table, 'client')} to let the store ` +
        'open its own connection',
      valueLocation(table, name),
    );
  }
}

/** Where a redis store connects: one of url, cluster_nodes, sentinels or client, consistently. */
function checkRedisTarget(table: MergedTable, present: Set<string>, problems: ProblemList): void {
  const name = (n: string): string => keyName(table, n);
  const targets = ['url', 'cluster_nodes', 'sentinels', 'client'].filter((n) => present.has(n));
  if (targets.length === 0) {
    problems.add(
      [...table.path, name('url')],
      `required for a redis store (or give ${name('cluster_nodes')} or ${name('sentinels')})`,
      tableLocation(table),
    );
  }
  if (present.has('cluster_nodes') && present.has('sentinels')) {
    problems.add(
      [...table.path, name('sentinels')],
      `not used with ${name('cluster_nodes')}: a Redis Cluster fails over by itself; keep one`,
      valueLocation(table, 'sentinels'),
    );
  }
  if (present.has('sentinels') !== present.has('sentinel_name')) {
    const [given, missing] = present.has('sentinels')
      ? ['sentinels', 'sentinel_name']
      : ['sentinel_name', 'sentinels'];
    problems.add(
      [...table.path, name(missing)],
      `required with ${name(given)}` +
        (missing === 'sentinel_name'
          ? ': the name of the master as the Sentinels know it (sentinel monitor <name> ...)'
          : ': the "host:port" of each Sentinel'),
      tableLocation(table),
    );
  }
  if (table.values.get('driver')?.value === 'node-redis' && present.has('sentinels')) {
    problems.add(
      [...table.path, name('driver')],
      `"node-redis" does not connect through Sentinels here, and ${name('sentinels')} is given; ` +
        `use ${name('driver')} = "ioredis" (the default) for Sentinel, or give ${name('url')}`,
      valueLocation(table, 'driver'),
    );
  }
  const url = table.values.get('url')?.value;
  const tls = ['tls_ca_file', 'tls_cert_file', 'tls_key_file'].find((n) => present.has(n));
  if (tls && typeof url === 'string' && /^redis:\/\//i.test(url)) {
    problems.add(
      [...table.path, name(tls)],
      `needs TLS, and ${name('url')} is a redis:// URL; write rediss:// to connect with TLS`,
      valueLocation(table, tls),
    );
  }
}

/** A client certificate comes with its key; certificates make no sense with TLS disabled. */
function checkTlsFiles(table: MergedTable, present: Set<string>, problems: ProblemList): void {
  const name = (n: string): string => keyName(table, n);
  if (present.has('tls_key_file') !== present.has('tls_cert_file')) {
    const missing = present.has('tls_key_file') ? 'tls_cert_file' : 'tls_key_file';
    problems.add(
      [...table.path, name(missing)],
      `a client certificate needs both ${name('tls_cert_file')} and ${name('tls_key_file')}`,
      tableLocation(table),
    );
  }
  const url = table.values.get('url')?.value;
  if (present.has('ssl_mode') && typeof url === 'string' && /[?&]sslmode=/i.test(url)) {
    problems.add(
      [...table.path, name('ssl_mode')],
      `not used with an sslmode in ${name('url')} (the URL's would win); keep one of them`,
      valueLocation(table, 'ssl_mode'),
    );
  }
  const tls = ['tls_ca_file', 'tls_cert_file', 'tls_key_file'].find((n) => present.has(n));
  if (tls && table.values.get('ssl_mode')?.value === 'disable') {
    problems.add(
      [...table.path, name(tls)],
      `not used with ${name('ssl_mode')} = "disable"; set ssl_mode to "verify-full" (or remove the file)`,
      valueLocation(table, tls),
    );
  }
}
