/** A TOML bare key: printed as is in paths; anything else is quoted. */
const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Formats a path of keys the way TOML spells it: `limiters.api.rate_per_second`, quoting keys
 * that are not bare (`limiters."tenant:acme".limit`), so the path can be searched for in a file.
 */
export function formatPath(segments: readonly string[]): string {
  return segments.map((s) => (BARE_KEY.test(s) ? s : JSON.stringify(s))).join('.');
}

/** A stable map key for a path (segments may contain dots, so they are not joined with one). */
export function pathKey(segments: readonly string[]): string {
  return segments.join('\u0000');
}
