import { InvalidArgumentError } from '../../core';

/**
 * A compiled route pattern of the `defaultLimit` option, matched at bootstrap against the paths
 * routes are declared with (global prefix, controller path and route path, e.g.
 * `/api/users/:id`).
 */
export interface RoutePattern {
  /** The pattern as written. */
  readonly source: string;
  /** Whether a declared route path matches. */
  matches(path: string): boolean;
}

/**
 * Compiles a route pattern: `/`-separated segments, each a literal (compared as written,
 * `:id` included), `*` (exactly one segment, whatever it is) or `**` (any number of segments,
 * none included). `/health` matches the route `/health` alone; `/admin/**` matches `/admin` and
 * everything under it; `/users/*` matches `/users/:id`.
 *
 * @param option the option's name, for errors (`defaultLimit.exclude[0]`)
 * @throws InvalidArgumentError naming `option` for a pattern that does not start with `/`, has
 *   an empty segment, or a `*` inside a segment
 */
export function compileRoutePattern(pattern: unknown, option: string): RoutePattern {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
    throw new InvalidArgumentError(
      option,
      `expected a route pattern starting with '/' (e.g. '/health' or '/admin/**'), got ${JSON.stringify(pattern)}`,
    );
  }
  const segments = splitPath(pattern);
  if (segments.includes('')) {
    throw new InvalidArgumentError(option, `'${pattern}' has an empty segment ('//')`);
  }
  const bad = segments.find((s) => s.includes('*') && s !== '*' && s !== '**');
  if (bad !== undefined) {
    throw new InvalidArgumentError(
      option,
      `'${pattern}': '*' must be a whole segment ('*': one segment, '**': any number of ` +
        `segments), not part of '${bad}'`,
    );
  }
  return { source: pattern, matches: (path) => matchSegments(segments, splitPath(path), 0, 0) };
}

/** The segments of a path, without the leading and trailing `/` (`/` alone: none). */
export function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function matchSegments(pattern: string[], path: string[], p: number, s: number): boolean {
  for (; p < pattern.length; p++, s++) {
    if (pattern[p] === '**') {
      for (let rest = s; rest <= path.length; rest++) {
        if (matchSegments(pattern, path, p + 1, rest)) return true;
      }
      return false;
    }
    if (s >= path.length || (pattern[p] !== '*' && pattern[p] !== path[s])) return false;
  }
  return s === path.length;
}
