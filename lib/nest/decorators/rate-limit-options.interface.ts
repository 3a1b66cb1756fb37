import type { ExecutionContext } from '@nestjs/common';
import type { CompositeStrategy } from '../../core';
import type { SkipFunction } from '../limits/skip-rule';

/**
 * Computes the identifier counted for one call, at once or as a promise (a tenant looked up
 * from a token). On HTTP handlers `ctx` is the request's context; on provider methods
 * `ctx.getArgs()` are the method's arguments. Return `''` or undefined for the limiter's single
 * shared bucket. A function that throws, rejects or returns anything else counts the call under
 * the missing-field placeholder `-` (and logs a warning once per route).
 */
export type KeyFunction = (
  ctx: ExecutionContext,
) => string | undefined | Promise<string | undefined>;

/**
 * Names the limiter of one call among a tiered declaration's candidates (`among`), at once or
 * as a promise: the caller's plan, read from the request or looked up. An id that is not a
 * candidate, a throw or a rejection falls back to the first candidate (list the strictest
 * first) and logs a warning once per route.
 */
export type TierFunction = (ctx: ExecutionContext) => string | Promise<string>;

/**
 * `@RateLimit({ among, pick })`: one limiter per call, picked from a declared set. Every
 * candidate is checked and planned at bootstrap like any limiter id.
 */
export interface RateLimitTiers {
  /** The candidate limiter ids, strictest first: the first is the fallback. */
  readonly among: readonly string[];
  /** Picks the candidate of one call. */
  readonly pick: TierFunction;
}

/**
 * The units one call takes, computed from the call (an upload's size...). Fractions round up.
 * A result that is not a number >= 1 the limit can ever admit (NaN, 0, negative, Infinity, too
 * large, not a number, or a throw) refuses the call as rejected, consuming nothing, and logs a
 * warning once per route.
 */
export type CostFunction = (ctx: ExecutionContext) => number;

/**
 * How a call's key (the identifier counted) is chosen:
 * - a template: `'{ip}'`, `'login:{body.email}'`, `'{user.id}'`, `'{headers.x-tenant-id}'`,
 *   `'{params.id}'`, `'{query.x}'`; on provider methods `'{0}'`, `'{1.tenantId}'`;
 * - a {@link KeyFunction};
 * - `false`: one bucket shared by every caller.
 */
export type KeySpec = string | KeyFunction | false;

/** What a limited call came to, as `refundWhen` sees it once the call is over. */
export interface HandlerOutcome {
  /**
   * HTTP routes: the response's status code (`401` for a failed login, `500` for an error
   * Nest answered, whatever an exception filter chose). Undefined elsewhere (provider methods,
   * GraphQL resolvers, gateways, message handlers).
   */
  readonly status?: number;
  /** What the handler threw (or its observable errored with); undefined when it did not. */
  readonly error?: unknown;
}

/** `'wait'`: wait for a slot up to the timeout. `'try'`: never wait; reject at once. */
export type RateLimitMode = 'wait' | 'try';

/** Options of `@RateLimit(idOrIds, options)`. */
export interface RateLimitOptions {
  /**
   * The identifier counted. Default: the client IP on HTTP handlers (and GraphQL over HTTP),
   * one shared bucket elsewhere. With several limiters, either one spec for all of them or an
   * object giving each limiter id its own (`{ auth_ip: '{ip}', auth_credential: '{body.email}' }`;
   * ids not named there use the default).
   */
  key?: KeySpec | Readonly<Record<string, KeySpec>>;
  /**
   * Seconds a call may wait for its slot. Default: the limiter's `timeout`; when that is unset
   * too, an HTTP request (or any other handler) does not wait, a provider method waits as long
   * as it takes. `Infinity` means no bound.
   */
  timeout?: number;
  /**
   * Units one call takes: an integer >= 1, or a {@link CostFunction} computing it per call.
   * @default 1
   */
  cost?: number | CostFunction;
  /**
   * `'wait'` (default): wait up to the timeout above. `'try'`: do not wait unless `timeout` is
   * given here (the limiter's `timeout` is ignored), and reject at once.
   */
  mode?: RateLimitMode;
  /** How several limiters combine. @default 'most_restrictive' (all-or-nothing) */
  strategy?: CompositeStrategy;
  /**
   * Lets a call through unlimited when it returns true (or a Promise of true), after the
   * module's `skip` said no: nothing is consumed, no rate-limit header is sent. A function that
   * throws does not skip; a warning is logged once per handler. Handlers only (routes,
   * resolvers, gateways, message handlers), not provider methods.
   */
  skip?: SkipFunction;
  /**
   * Runs once the call is over (an HTTP route: when its handler is done and its response
   * finished); when it returns true, the admission is refunded, as if it had not happened
   * (`Permit.refund()`): count only failed logins with `({ status }) => status < 400`, do not
   * charge server errors with `({ status }) => status >= 500`. A predicate that throws counts
   * the call (with a warning). Every limiter of the declaration needs a rate part
   * (`rate_per_second` or a sliding window): a `max_concurrent`-only limiter has nothing to
   * refund, and the boot fails naming the handler.
   */
  refundWhen?: (outcome: HandlerOutcome) => boolean;
}

/** What `@RateLimit` stores under the `rate-sync:limit` metadata key. */
export interface RateLimitDeclaration {
  /** Absent on a `@RateLimit` declaration (`true` only for `@SkipRateLimit`). */
  readonly skip?: false;
  /** The limiter ids, in the order given (with `pick`: the candidates, `among`). */
  readonly limiterIds: readonly string[];
  /** Present on a tiered declaration: picks one of `limiterIds` per call. */
  readonly pick?: TierFunction;
  /** The options given to `@RateLimit`. */
  readonly options: Readonly<RateLimitOptions>;
}

/** What `@SkipRateLimit()` stores under the same key: it overrides a class-level `@RateLimit`. */
export interface SkipRateLimitDeclaration {
  readonly skip: true;
}

/** The `rate-sync:limit` metadata value. */
export type RateLimitMetadata = RateLimitDeclaration | SkipRateLimitDeclaration;
