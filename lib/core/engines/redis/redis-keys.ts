import { InvalidArgumentError } from '../../errors';
import { MAX_ESCAPED_PART } from '../../keys';

/** The default `key_prefix` of a redis store. */
export const DEFAULT_KEY_PREFIX = 'rate_limit';

/**
 * Longest Redis key this engine writes, beyond the length of `key_prefix`: `:{` + the storage
 * key (at most 2 * 128 + 1 characters, see `storageKey()`) + `}:` + one suffix letter.
 */
export const MAX_KEY_OVERHEAD = 2 + (2 * MAX_ESCAPED_PART + 1) + 3;

/**
 * The Redis names of one (limiter, identifier), all in the hash tag `{<storageKey>}` so that
 * they share a cluster slot:
 *
 * - `<prefix>:{<storageKey>}:t`  GCRA theoretical arrival time (string)
 * - `<prefix>:{<storageKey>}:w`  sliding window log (ZSET)
 * - `<prefix>:{<storageKey>}:c`  concurrency leases (ZSET)
 * - `<prefix>:{<storageKey>}:b`  `block_seconds`: blocked until, epoch ms (string)
 * - `<prefix>:{<storageKey>}:r`  release channel (pub/sub, not a key)
 *
 * Storage keys contain only `[A-Za-z0-9_.\-@%#:]` (see `escapeKeyPart`), so no brace can end
 * the hash tag early and two different storage keys never give one name.
 */
export interface LayerKeys {
  readonly tat: string;
  readonly window: string;
  readonly leases: string;
  readonly block: string;
  readonly channel: string;
}

/** Builds the names of a storage key. */
export function layerKeys(prefix: string, storageKey: string): LayerKeys {
  const base = `${prefix}:{${storageKey}}:`;
  return {
    tat: `${base}t`,
    window: `${base}w`,
    leases: `${base}c`,
    block: `${base}b`,
    channel: `${base}r`,
  };
}

/** The storage key inside a key or channel name written by {@link layerKeys}, if it is one. */
export function storageKeyOf(prefix: string, name: string): string | undefined {
  const head = `${prefix}:{`;
  if (!name.startsWith(head) || name.length < head.length + 4 || name[name.length - 3] !== '}') {
    return undefined;
  }
  return name.slice(head.length, -3);
}

/**
 * SCAN patterns matching every key of one limiter (its policy's escaped `keyPrefix`): its global key `{lim}` and its
 * per-identifier keys `{lim:...}`. Escaped limiter ids contain no colon, so `lim` never matches
 * the keys of a limiter whose id merely starts with `lim`.
 */
export function limiterScanPatterns(prefix: string, keyPrefix: string): string[] {
  const p = escapeGlob(prefix);
  const lim = escapeGlob(keyPrefix);
  return [`${p}:{${lim}}:?`, `${p}:{${lim}:*}:?`];
}

/** Validates `key_prefix`: a brace in it would move the hash tag and break cluster slots. */
export function checkKeyPrefix(storeId: string, prefix: string): string {
  if (prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new InvalidArgumentError(
      `stores.${storeId}.key_prefix`,
      `must be non-empty and contain no '{' or '}' (they would change the Redis Cluster hash tag), got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix;
}

/** Escapes the glob characters of Redis MATCH patterns (`* ? [ ] \`). */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
