import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Permit, RateSync, StoreUnavailableError, type RateLimitResult } from '../core';
import { requestClientIp } from './http/client-ip';
import { RateLimitExceededException } from './http/rate-limit-exceeded.exception';
import { policyWindowSeconds, rateLimitHeaders } from './http/rate-limit-headers';
import { RateLimitUnavailableException } from './http/rate-limit-unavailable.exception';
import { rawResponse, whenResponseDone } from './http/response-lifecycle';
import type { KeySource, RequestLike } from './keys/key-source';
import { MISSING_FIELD_PLACEHOLDER } from './keys/key-template';
import type { CompiledLimit, LimitOutcome } from './limits/compiled-limit';
import { RateLimitRegistry } from './limits/rate-limit.registry';
import { RATE_SYNC_SETTINGS } from './rate-sync.constants';
import type { RateSyncSettings } from './rate-sync-settings';

/**
 * The global guard `RateSyncModule` registers. On an HTTP handler limited by `@RateLimit` it
 * acquires before the handler runs, sets the rate-limit headers, answers 429 when rejected (503
 * when a fail_closed store is down) and releases the permit exactly once, when the response
 * finishes or the connection closes. Handlers without `@RateLimit` pass at the cost of one
 * lookup. Other contexts (GraphQL, WebSocket, RPC) pass: `RateLimitInterceptor` limits them.
 *
 * Extend it through the protected methods and pass the subclass as the module's `guard` option.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    protected readonly limits: RateLimitRegistry,
    protected readonly rateSync: RateSync,
    @Inject(RATE_SYNC_SETTINGS) protected readonly settings: RateSyncSettings,
    protected readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Admits (true) or throws the 429 / 503; non-HTTP contexts and unlimited handlers pass. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const limit = this.limits.forContext(context);
    if (!limit || (await this.shouldSkip(context, limit))) return true;
    const { request, response } = this.getRequestResponse(context);
    const keys = this.getKeys(context, limit, request);
    const { result, permit } = await this.acquire(context, limit, keys, response);
    if (!permit) return this.onRejected(context, result, response);
    this.onAdmitted(context, result, response);
    this.releaseWhenDone(response, permit);
    return true;
  }

  /** Return true to let a request through unlimited (health checks, internal callers...). */
  protected shouldSkip(
    _context: ExecutionContext,
    _limit: CompiledLimit,
  ): boolean | Promise<boolean> {
    return false;
  }

  /** The framework's request and response objects (Express, or Fastify's request and reply). */
  protected getRequestResponse(context: ExecutionContext): {
    request: RequestLike;
    response: unknown;
  } {
    const http = context.switchToHttp();
    return { request: http.getRequest<RequestLike>(), response: http.getResponse<unknown>() };
  }

  /**
   * Who the request counts against when no key is given, and what `{ip}` means: the client IP
   * (see `trustedProxies`), or `'-'` when unknown. An IPv6 address returned here is then
   * counted by its network (the module's `ipv6Subnet`, or `{ip|v6/N}`).
   */
  protected getTracker(request: RequestLike, _context: ExecutionContext): string {
    return requestClientIp(request, this.settings.trustedProxies) ?? MISSING_FIELD_PLACEHOLDER;
  }

  /** One identifier per limiter of the declaration (undefined: its shared bucket). */
  protected getKeys(
    context: ExecutionContext,
    limit: CompiledLimit,
    request: RequestLike,
  ): (string | undefined)[] {
    const source: KeySource = {
      context,
      request,
      args: context.getArgs(),
      ip: () => this.getTracker(request, context),
      ipv6Subnet: this.settings.ipv6Subnet,
    };
    return limit.keys(source);
  }

  /** Acquires without waiting beyond the timeout; a fail_closed store outage becomes a 503. */
  protected async acquire(
    context: ExecutionContext,
    limit: CompiledLimit,
    keys: (string | undefined)[],
    response: unknown,
  ): Promise<LimitOutcome> {
    try {
      return await limit.acquire(keys, false);
    } catch (err) {
      if (err instanceof StoreUnavailableError) this.onStoreUnavailable(context, err, response);
      throw err;
    }
  }

  /** Sets the rate-limit headers of an admitted request. */
  protected onAdmitted(
    _context: ExecutionContext,
    result: RateLimitResult,
    response: unknown,
  ): void {
    this.setHeaders(response, result);
  }

  /** Sets the headers (with `Retry-After`) and throws the 429. */
  protected onRejected(
    _context: ExecutionContext,
    result: RateLimitResult,
    response: unknown,
  ): never {
    this.setHeaders(response, result);
    throw new RateLimitExceededException(result);
  }

  /** Sets `Retry-After` and throws the 503. */
  protected onStoreUnavailable(
    _context: ExecutionContext,
    error: StoreUnavailableError,
    response: unknown,
  ): never {
    const exception = new RateLimitUnavailableException(error);
    this.setHeader(response, 'Retry-After', String(exception.retryAfter));
    throw exception;
  }

  /** Releases the permit once, when the response finishes or the connection closes. */
  protected releaseWhenDone(response: unknown, permit: Permit): void {
    const raw = rawResponse(response);
    if (raw) whenResponseDone(raw, () => void permit.release());
    else void permit.release(); // no Node response to watch: hold nothing
  }

  /** Writes the header fields of a decision, per the module's `headers` option. */
  protected setHeaders(response: unknown, result: RateLimitResult): void {
    const now = this.settings.clock.now();
    const windowOf = (id: string): number | undefined =>
      this.rateSync.has(id) ? policyWindowSeconds(this.rateSync.limiter(id).options) : undefined;
    for (const [name, value] of rateLimitHeaders(result, this.settings.headers, now, windowOf)) {
      this.setHeader(response, name, value);
    }
  }

  /** Sets one header through the HTTP adapter (Express or Fastify alike). */
  protected setHeader(response: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }
}
