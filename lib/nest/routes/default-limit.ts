import { InvalidArgumentError } from '../../core';
import { compileKeyTemplate } from '../keys/key-template';
import { isPromiseLike } from '../limits/call-values';
import { didYouMean } from '../../core/config/did-you-mean';
import type { KeySpec, RateLimitDeclaration } from '../decorators/rate-limit-options.interface';
import { compileRoutePattern, type RoutePattern } from './route-pattern';

/**
 * The `defaultLimit` module option: limiters applied to every HTTP route that has no
 * `@RateLimit` of its own (on the handler or its controller) and no `@SkipRateLimit()`.
 * Coverage is decided once per route at bootstrap, from the paths the route is declared with.
 */
export interface DefaultLimitOptions {
  /** The limiter id, or ids (one all-or-nothing composite limit), every covered route takes. */
  limiters: string | readonly string[];
  /**
   * Route patterns a route must match to be covered (default: every route). Matched against
   * the declared path, global prefix included and versions not: `/api/users/:id`. Segments are
   * literals, `*` (one segment) or `**` (any number of segments): `'/api/**'`.
   */
  include?: readonly string[];
  /** Route patterns that are never covered (same syntax), e.g. `['/health', '/metrics']`. */
  exclude?: readonly string[];
  /**
   * The identifier counted, as `@RateLimit`'s `key` (a template, a function or `false`).
   * Default: the client IP. Unless `perRoute`, one key counts across every covered route
   * (`'{ip}'`: one bucket per client for the whole API).
   */
  key?: KeySpec;
  /**
   * `true`: each route counts on its own, its key prefixed with `Controller.handler:` (as
   * `@nestjs/throttler` counts); `false`: one count per key across every covered route.
   * @default false
   */
  perRoute?: boolean;
}

/** `defaultLimit`, validated: which routes it covers and the declaration they get. */
export class DefaultLimit {
  private constructor(
    /** The declaration shared by covered routes (when not `perRoute`). */
    private readonly declaration: RateLimitDeclaration,
    private readonly perRoute: boolean,
    private readonly include: readonly RoutePattern[],
    private readonly exclude: readonly RoutePattern[],
  ) {}

  /**
   * The declaration a covered route is compiled with, as if it had this `@RateLimit`.
   * @param where the route's `Controller.handler`, the key prefix of a `perRoute` limit
   */
  declarationFor(where: string): RateLimitDeclaration {
    if (!this.perRoute) return this.declaration;
    const key = routeKey(where, this.declaration.options.key as KeySpec | undefined);
    return { limiterIds: this.declaration.limiterIds, options: { key } };
  }

  /**
   * Validates the option against the configured limiters.
   * @throws InvalidArgumentError naming the field (`defaultLimit.limiters`,
   *   `defaultLimit.exclude[0]`...)
   */
  static resolve(value: DefaultLimitOptions, knownLimiters: readonly string[]): DefaultLimit {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        'defaultLimit',
        `expected { limiters, include?, exclude?, key? }, got ${JSON.stringify(value)}`,
      );
    }
    const unknown = Object.keys(value).find(
      (k) => !['limiters', 'include', 'exclude', 'key', 'perRoute'].includes(k),
    );
    if (unknown) {
      throw new InvalidArgumentError(
        `defaultLimit.${unknown}`,
        'unknown option; expected limiters, include, exclude, key or perRoute',
      );
    }
    if (value.perRoute !== undefined && typeof value.perRoute !== 'boolean') {
      throw new InvalidArgumentError(
        'defaultLimit.perRoute',
        `expected a boolean, got ${JSON.stringify(value.perRoute)}`,
      );
    }
    const ids = limiterIds(value.limiters, knownLimiters);
    const key = value.key;
    if (key !== undefined && key !== false && !['string', 'function'].includes(typeof key)) {
      throw new InvalidArgumentError(
        'defaultLimit.key',
        'expected a template, a function or false',
      );
    }
    if (typeof key === 'string') checkTemplate(key);
    const options = key === undefined ? {} : { key };
    return new DefaultLimit(
      { limiterIds: ids, options },
      value.perRoute ?? false,
      patterns(value.include, 'defaultLimit.include'),
      patterns(value.exclude, 'defaultLimit.exclude'),
    );
  }

  /** Whether a route declared with these paths is covered: one included, none excluded. */
  covers(paths: readonly string[]): boolean {
    const included =
      this.include.length === 0 || paths.some((p) => this.include.some((i) => i.matches(p)));
    return included && !paths.some((p) => this.exclude.some((e) => e.matches(p)));
  }

  /** The patterns that match none of these paths (likely typos), for a warning at boot. */
  unmatched(paths: readonly string[]): string[] {
    return [...this.include, ...this.exclude]
      .filter((pattern) => !paths.some((p) => pattern.matches(p)))
      .map((pattern) => pattern.source);
  }
}

function limiterIds(value: unknown, known: readonly string[]): string[] {
  const ids = typeof value === 'string' ? [value] : Array.isArray(value) ? [...value] : [];
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || id === '')) {
    throw new InvalidArgumentError(
      'defaultLimit.limiters',
      `expected a limiter id or a non-empty array of ids, got ${JSON.stringify(value)}`,
    );
  }
  for (const id of ids as string[]) {
    if (!known.includes(id)) {
      throw new InvalidArgumentError(
        'defaultLimit.limiters',
        `no limiter '${id}' is configured${didYouMean(id, known)}; declare it in rate-sync.toml ` +
          `or the limiters option (configured: ${known.join(', ') || 'none'})`,
      );
    }
  }
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new InvalidArgumentError('defaultLimit.limiters', `'${dup}' is listed twice`);
  return ids as string[];
}

function patterns(value: unknown, option: string): RoutePattern[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(option, `expected an array of route patterns`);
  }
  return value.map((p, i) => compileRoutePattern(p, `${option}[${i}]`));
}

/** A key counted per route: the route's `Controller.handler`, then the key. */
function routeKey(where: string, key: KeySpec | undefined): KeySpec {
  if (key === undefined) return `${where}:{ip}`;
  if (key === false) return where;
  if (typeof key === 'string') return `${where}:${key}`;
  // A bad answer (not a string) is passed on as is, for the key resolver to report.
  const prefixed = (value: string | undefined): string | undefined =>
    typeof value !== 'string' && value !== undefined ? value : value ? `${where}:${value}` : where;
  return (context) => {
    const value = key(context);
    return isPromiseLike(value) ? Promise.resolve(value).then(prefixed) : prefixed(value);
  };
}

function checkTemplate(template: string): void {
  try {
    compileKeyTemplate(template);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new InvalidArgumentError('defaultLimit.key', err.message.replace(/^key: /, ''));
  }
}
