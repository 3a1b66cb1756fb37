import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Permit, RateSync, StoreUnavailableError, type RateLimitResult } from '../core';
import { requestClientIp } from './http/client-ip';
import { RateLimitExceededException } from './http/rate-limit-exceeded.exception';
import { writeResponseHeaders, type HeaderWriter } from './http/rate-limit-headers';
import { markHeadersWritten, withoutStackFrames } from './http/guard-refusal';
import { holdForRequest } from './http/request-permit';
import { RateLimitUnavailableException } from './http/rate-limit-unavailable.exception';
import { rawResponse, whenClientLeaves, whenResponseDone } from './http/response-lifecycle';
import type { RateLimitDeclaration } from './decorators/rate-limit-options.interface';
import type { KeySource, RequestLike } from './keys/key-source';
import { MISSING_FIELD_PLACEHOLDER } from './keys/key-template';
import { isPromiseLike } from './limits/call-values';
import type { CompiledLimit, LimitCall, LimitOutcome } from './limits/compiled-limit';
import { RateLimitRegistry } from './limits/rate-limit.registry';
import { anyRuleSkips } from './limits/skip-rule';
import { RATE_SYNC_SETTINGS } from './rate-sync.constants';
import type { RateSyncSettings } from './rate-sync-settings';

/**
 * The global guard `RateSyncModule` registers. On an HTTP handler limited by `@RateLimit` it
 * acquires before the handler runs, sets the rate-limit headers, answers 429 when rejected (503
 * when a fail_closed store is down) and releases the permit exactly once, when the handler's
 * work and the response are both over. A request waits for its slot only when its own
 * `@RateLimit(..., { timeout })` says so, and a client that leaves while waiting cancels it. Handlers without `@RateLimit` pass at the cost of one
 * lookup. Other contexts (GraphQL, WebSocket, RPC) pass: `RateLimitInterceptor` limits them.
 *
 * Extend it through the protected methods and pass the subclass as the module's `guard` option.
 * A subclass keeps this constructor (its parameters are internal); it gets its own
 * dependencies by property injection (`@Inject(Foo) private readonly foo!: Foo`).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** @internal Nest creates the guard; the parameters are the module's internals. */
  constructor(
    /** @internal */ protected readonly limits: RateLimitRegistry,
    /** @internal */ protected readonly rateSync: RateSync,
    /** @internal */ @Inject(RATE_SYNC_SETTINGS) protected readonly settings: RateSyncSettings,
    /** Nest's HTTP adapter (Express or Fastify), through which headers are written. */
    protected readonly adapterHost: HttpAdapterHost,
  ) {}

  /** {@link RateLimitGuard.setHeader} as a writer, made once rather than per request. */
  private readonly writeHeader: HeaderWriter<unknown> = (response, name, value) =>
    this.setHeader(response, name, value);

  /**
   * Admits (true) or throws the 429 / 503; non-HTTP contexts and unlimited handlers pass.
   * Answers at once (no promise) when every step does: skip rules, keys, and a decision taken
   * in process (the memory engine, no waiting); each promise is a hop through the microtask
   * queue on every request.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const limit = this.limits.forContext(context);
    if (!limit) return true;
    const skip = this.isSkipped(context, limit);
    if (skip === true) return true;
    if (skip !== false) return skip.then((skipped) => skipped || this.limitRequest(context, limit));
    return this.limitRequest(context, limit);
  }

  /** Keys, decision and answer of a request that is not skipped. */
  private limitRequest(
    context: ExecutionContext,
    limit: CompiledLimit,
  ): boolean | Promise<boolean> {
    const { request, response } = this.getRequestResponse(context);
    const prepared = this.getKeys(context, limit, request);
    if (!isPromiseLike(prepared)) return this.decide(context, limit, prepared, request, response);
    return Promise.resolve(prepared).then((call) =>
      this.decide(context, limit, call, request, response),
    );
  }

  /**
   * Acquires and answers: at once when the decision is taken in process without waiting
   * (unless a subclass changed how requests acquire), else through {@link RateLimitGuard.acquire}.
   */
  private decide(
    context: ExecutionContext,
    limit: CompiledLimit,
    call: LimitCall,
    request: RequestLike,
    response: unknown,
  ): boolean | Promise<boolean> {
    const now =
      limit.waitMs === 0 && this.acquire === RateLimitGuard.prototype.acquire
        ? limit.acquireNow(call)
        : undefined;
    if (now) return this.answer(context, limit, now, request, response);
    return this.acquire(context, limit, call, response).then((outcome) =>
      this.answer(context, limit, outcome, request, response),
    );
  }

  /** Sets the headers, and throws the 429 or holds the permit until the call is over. */
  private answer(
    context: ExecutionContext,
    limit: CompiledLimit,
    { result, permit }: LimitOutcome,
    request: RequestLike,
    response: unknown,
  ): boolean {
    if (!permit) return this.onRejected(context, result, response);
    this.onAdmitted(context, result, response);
    if (limit.settlesAfterCall) this.releaseWhenDone(request, response, permit, limit);
    return true;
  }

  /**
   * Whether the request goes through unlimited: the module's `skip`, then the declaration's,
   * then {@link RateLimitGuard.shouldSkip}. A skipped request consumes nothing and gets no
   * rate-limit header.
   */
  private isSkipped(context: ExecutionContext, limit: CompiledLimit): boolean | Promise<boolean> {
    if (!this.settings.skip && !limit.skipRule) return this.shouldSkip(context, limit);
    const rules = anyRuleSkips([this.settings.skip, limit.skipRule], context);
    if (rules === true) return true;
    if (rules === false) return this.shouldSkip(context, limit);
    return rules.then((skip) => skip || this.shouldSkip(context, limit));
  }

  /**
   * Return true to let a request through unlimited (health checks, internal callers...), after
   * the `skip` options said no. `limit` is the handler's `@RateLimit` declaration (or the
   * module's `defaultLimit`): its limiter ids and options.
   */
  protected shouldSkip(
    _context: ExecutionContext,
    _limit: RateLimitDeclaration,
  ): boolean | Promise<boolean> {
    return false;
  }

  /** The framework's request and response objects (Express, or Fastify's request and reply). */
  protected getRequestResponse(context: ExecutionContext): {
    request: RequestLike;
    response: unknown;
  } {
    // What switchToHttp().getRequest() / getResponse() return, without the three closures
    // Nest's switchToHttp allocates on every call.
    return { request: context.getArgByIndex<RequestLike>(0), response: context.getArgByIndex(1) };
  }

  /**
   * Who the request counts against when no key is given, and what `{ip}` means: the client IP
   * (see `trustedProxies`), or `'-'` when unknown. An IPv6 address returned here is then
   * counted by its network (the module's `ipv6Subnet`, or `{ip|v6/N}`).
   */
  protected getTracker(request: RequestLike, _context: ExecutionContext): string {
    this.settings.forwardedForWarning?.check(request);
    return requestClientIp(request, this.settings.trustedProxies) ?? MISSING_FIELD_PLACEHOLDER;
  }

  /**
   * What the request acquires: the limiter picked (tiers), one identifier per limiter
   * (undefined: its shared bucket) and the cost; a promise when a key or pick function is async.
   * @internal Its signature will change; override `getTracker` to change the default key.
   */
  protected getKeys(
    context: ExecutionContext,
    limit: CompiledLimit,
    request: RequestLike,
  ): LimitCall | Promise<LimitCall> {
    const source: KeySource = {
      context,
      request,
      args: context.getArgs(),
      ip: () => this.getTracker(request, context),
      ipv6Subnet: this.settings.ipv6Subnet,
    };
    return limit.prepare(source);
  }

  /**
   * Acquires, waiting only as long as the declaration's own `timeout` allows; a client that
   * disconnects while waiting cancels its wait. A fail_closed store outage becomes a 503.
   * @internal Its signature will change; override `onStoreUnavailable` to change the 503.
   */
  protected async acquire(
    context: ExecutionContext,
    limit: CompiledLimit,
    call: LimitCall,
    response: unknown,
  ): Promise<LimitOutcome> {
    const raw = limit.waitMs > 0 ? rawResponse(response) : undefined;
    const abandoned = raw ? whenClientLeaves(raw) : undefined;
    try {
      return await limit.acquire(call, abandoned?.signal);
    } catch (err) {
      if (err instanceof StoreUnavailableError) this.onStoreUnavailable(context, err, response);
      throw err;
    } finally {
      abandoned?.stop();
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
    const refusal = withoutStackFrames(() => new RateLimitExceededException(result));
    // The filter writes the same fields unless told they are on the response; it still does
    // when a subclass changed how this guard writes them.
    if (this.writesDefaultHeaders()) markHeadersWritten(refusal);
    throw refusal;
  }

  /** True unless a subclass overrides how header fields are written. */
  private writesDefaultHeaders(): boolean {
    return (
      this.setHeaders === RateLimitGuard.prototype.setHeaders &&
      this.setHeader === RateLimitGuard.prototype.setHeader
    );
  }

  /** Sets `Retry-After` and throws the 503. */
  protected onStoreUnavailable(
    _context: ExecutionContext,
    error: StoreUnavailableError,
    response: unknown,
  ): never {
    this.setHeaders(response, error);
    throw new RateLimitUnavailableException(error);
  }

  /**
   * Releases the permit once, when the handler's work and the response are both over: a client
   * that disconnects does not free the slot while its handler runs. With `refundWhen`, refunds
   * it instead when the predicate says so, given the response's status and the handler's error.
   */
  protected releaseWhenDone(
    request: RequestLike,
    response: unknown,
    permit: Permit,
    limit?: CompiledLimit,
  ): void {
    const raw = rawResponse(response);
    if (!raw) return void permit.release(); // no Node response to watch: hold nothing
    const settle = limit?.options.refundWhen ? limit.settle.bind(limit) : undefined;
    const held = holdForRequest(request, permit, settle, () => raw.statusCode);
    whenResponseDone(raw, () => held.responseDone());
  }

  /** Writes the header fields of a decision or a store failure, per the `headers` option. */
  protected setHeaders(response: unknown, result: RateLimitResult | StoreUnavailableError): void {
    writeResponseHeaders(result, this.settings, this.rateSync, this.writeHeader, response);
  }

  /** Sets one header through the HTTP adapter (Express or Fastify alike). */
  protected setHeader(response: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }
}
