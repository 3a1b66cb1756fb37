export { loadConfig, type LoadConfigOptions } from './load-config';
export { validateConfig, type ValidatedConfig } from './validate';
export type { ConfigSource } from './config-source';
