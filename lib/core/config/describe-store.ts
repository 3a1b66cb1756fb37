import type { StoreOptions } from '../options';
import { redactUrl } from './redact';

/** A store's options with every secret removed: safe for logs, `list()` and error messages. */
export type StoreSummary = Omit<StoreOptions, 'password' | 'sentinelPassword' | 'client'> & {
  /** `'***'` when a password is configured; absent otherwise. */
  readonly password?: '***';
  /** `'***'` when a Sentinel password is configured; absent otherwise. */
  readonly sentinelPassword?: '***';
  /** Present when the application gave its own client (whose options hold credentials). */
  readonly client?: 'given in code';
};

/**
 * Returns a secret-free copy of `options`: the URL's credentials are replaced by `***` (see
 * {@link redactUrl}), a configured password shows as `'***'`, and a client given in code only
 * as such (its options hold credentials).
 */
export function describeStore(options: StoreOptions): StoreSummary {
  const { password, sentinelPassword, client, url, clusterNodes, sentinels, ...rest } = options;
  return {
    ...rest,
    ...(url !== undefined ? { url: redactUrl(url) } : {}),
    ...(clusterNodes !== undefined ? { clusterNodes: [...clusterNodes] } : {}),
    ...(sentinels !== undefined ? { sentinels: [...sentinels] } : {}),
    ...(password !== undefined ? { password: '***' as const } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword: '***' as const } : {}),
    ...(client !== undefined ? { client: 'given in code' as const } : {}),
  };
}
