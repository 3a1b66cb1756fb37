import type { StoreOptions } from '../options';
import { redactUrl } from './redact';

/** A store's options with every secret removed: safe for logs, `list()` and error messages. */
export type StoreSummary = Omit<StoreOptions, 'password'> & {
  /** `'***'` when a password is configured; absent otherwise. */
  readonly password?: '***';
};

/**
 * Returns a secret-free copy of `options`: the URL's credentials are replaced by `***` (see
 * {@link redactUrl}) and a configured password shows as `'***'`.
 */
export function describeStore(options: StoreOptions): StoreSummary {
  const { password, url, clusterNodes, ...rest } = options;
  return {
    ...rest,
    ...(url !== undefined ? { url: redactUrl(url) } : {}),
    ...(clusterNodes !== undefined ? { clusterNodes: [...clusterNodes] } : {}),
    ...(password !== undefined ? { password: '***' as const } : {}),
  };
}
