import type { ExecutionContext } from '@nestjs/common';
import { RateSyncError, type RateLimitResult, type StoreUnavailableError } from '../../core';
import type { RequestLike } from '../keys/key-source';
import { rateLimitRejection, type RateLimitRejection } from './rate-limit-rejection';

/** The GraphQL context fields rate-sync reads (Apollo and Mercurius both set `req`). */
interface GraphqlContext {
  readonly req?: RequestLike & { readonly res?: unknown };
  readonly res?: unknown;
  readonly reply?: unknown;
}

function graphqlContext(context: ExecutionContext): GraphqlContext | undefined {
  const value = context.getArgByIndex<unknown>(2);
  return typeof value === 'object' && value !== null ? (value as GraphqlContext) : undefined;
}

/**
 * The HTTP request behind a GraphQL call: `req` of the GraphQL context, which the Apollo and
 * Mercurius drivers of `@nestjs/graphql` set by default (and keep when your `context` factory
 * returns an object without `req`). Undefined for a call without one (a subscription over
 * WebSockets, for instance).
 */
export function graphqlRequest(context: ExecutionContext): RequestLike | undefined {
  const req = graphqlContext(context)?.req;
  return req?.headers ? req : undefined;
}

/**
 * The HTTP response of a GraphQL call, where `Retry-After` goes: `res` or Mercurius's `reply` in
 * the GraphQL context, else the Express request's `req.res`. Undefined when there is none.
 */
export function graphqlResponse(context: ExecutionContext): unknown {
  const ctx = graphqlContext(context);
  return ctx?.res ?? ctx?.reply ?? ctx?.req?.res;
}

/** The resolver's arguments (what `{args.id}` reads): the second resolver argument. */
export function graphqlArgs(context: ExecutionContext): unknown {
  return context.getArgByIndex<unknown>(1);
}

/**
 * A GraphQL resolver call rejected by `@RateLimit`. GraphQL servers copy `extensions` into the
 * response's error (`errors[0].extensions`): `{ code: 'RATE_LIMITED', limiter, retryAfter,
 * retryAfterMs }`. Internal: clients read the response, your code may catch
 * `RateSyncError`.
 */
export class GraphqlRateLimitError extends RateSyncError {
  /** What the GraphQL response's error carries under `extensions`. */
  readonly extensions: Omit<RateLimitRejection, 'message'>;

  constructor(subject: RateLimitResult | StoreUnavailableError) {
    const { message, ...extensions } = rateLimitRejection(subject);
    super(message, { cause: subject });
    this.name = 'GraphqlRateLimitError';
    this.extensions = extensions;
  }
}
