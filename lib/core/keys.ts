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
  if (part.length <= MAX_ESCAPED_PART && isSafe(part)) return part;
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

/** Faster than the regular expression for the common case (short, plain identifiers). */
function isSafe(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || // a-z
      (c >= 64 && c <= 90) || // @ A-Z
      (c >= 48 && c <= 57) || // 0-9
      c === 95 || // _
      c === 46 || // .
      c === 45; // -
    if (!ok) return false;
  }
  return true;
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
