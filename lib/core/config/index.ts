export { loadConfig, type LoadConfigOptions } from './load-config';
export {
  discoverConfigFile,
  CONFIG_ENV_VAR,
  DEFAULT_CONFIG_PATHS,
  type DiscoverOptions,
  type DiscoveredConfigFile,
} from './discover';
export { interpolateEnv, UNRESOLVED, type Interpolated, type ReportProblem } from './interpolate';
export { validateConfig, type ValidatedConfig } from './validate';
export type { ConfigLayer } from './config-layer';
export { readTomlFile, type TomlFile } from './read-toml';
export { indexTomlLines, type LineOf } from './toml-lines';
export { redactUrl } from './redact';
export { describeStore, type StoreSummary } from './describe-store';
export { ENGINES, ALGORITHMS, STORE_FIELDS, LIMITER_FIELDS, type FieldSpec } from './schema';
