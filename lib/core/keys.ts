import { createHash } from 'node:crypto';

/** Identifiers longer than this (after escaping) are replaced by a hash. */
export const MAX_ESCAPED_PART = 128;

const SAFE = /^[A-Za-z0-9_.\-@]*$/;

/**
 * Escapes one key part so that it contains only `[A-Za-z0-9_.-@%]` (no colon, brace, space or
 * non-ASCII), then hashes it (`#` + sha256 hex) when longer than {@link MAX_ESCAPED_PART}.
 * Different inputs never give the same output.
 */
export function escapeKeyPart(part: string): string {
  const escaped = SAFE.test(part)
    ? part
    : Array.from(Buffer.from(part, 'utf8'))
        .map((b) => {
          const c = String.fromCharCode(b);
          return b < 0x80 && SAFE.test(c) ? c : `%${b.toString(16).padStart(2, '0')}`;
        })
        .join('');
  if (escaped.length <= MAX_ESCAPED_PART) return escaped;
  return `#${createHash('sha256').update(part, 'utf8').digest('hex')}`;
}

/**
 * The storage key of (limiter, identifier): `limiter` for the global bucket, else
 * `limiter:identifier`, each part escaped. At most 2 * 128 + 1 characters.
 */
export function storageKey(limiterId: string, identifier: string | undefined): string {
  const lim = escapeKeyPart(limiterId);
  return identifier === undefined || identifier === ''
    ? lim
    : `${lim}:${escapeKeyPart(identifier)}`;
}
