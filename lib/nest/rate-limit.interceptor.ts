import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Observable, type Subscription } from 'rxjs';
import {
  RateLimitExceededError,
  RateSync,
  StoreUnavailableError,
  type Permit,
  type RateLimitResult,
} from '../core';
import { requestClientIp } from './http/client-ip';
import { responseHeaders } from './http/rate-limit-headers';
import type { KeySource, RequestLike } from './keys/key-source';
import type { CompiledLimit } from './limits/compiled-limit';
import { RateLimitRegistry } from './limits/rate-limit.registry';
import { RATE_SYNC_SETTINGS } from './rate-sync.constants';
import type { RateSyncSettings } from './rate-sync-settings';
import {
  graphqlArgs,
  graphqlRequest,
  graphqlResponse,
  GraphqlRateLimitError,
} from './transports/graphql-call';
import { DroppedEventLog, isEventHandler } from './transports/microservice-event';
import { rateLimitRejection } from './transports/rate-limit-rejection';
import { rpcRateLimitException, wsRateLimitException } from './transports/transport-exceptions';
import { websocketKeySource } from './transports/websocket-handshake';

/**
 * Limits handlers that are not HTTP routes: GraphQL resolvers, WebSocket gateways and
 * microservice patterns. It acquires before the handler and releases when the handler's
 * observable completes, errors or is unsubscribed. A rejection takes the transport's shape:
 * a GraphQL error with `extensions.code: 'RATE_LIMITED'` (and `Retry-After` on the HTTP
 * response), a `WsException`, an `RpcException`; a rejected `@EventPattern` event is dropped
 * with a warning. HTTP routes are left to `RateLimitGuard`.
 *
 * `RateSyncModule` registers it globally only with `nonHttp: true`; otherwise bind it where it
 * is needed with `@UseInterceptors(RateLimitInterceptor)` (the boot fails on a limited non-HTTP
 * handler that it does not reach).
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  private readonly droppedEvents = new DroppedEventLog(new Logger('RateSync'));

  /** @internal Nest creates the interceptor; the parameters are the module's internals. */
  constructor(
    /** @internal */ protected readonly limits: RateLimitRegistry,
    /** @internal */ @Inject(RATE_SYNC_SETTINGS) protected readonly settings: RateSyncSettings,
    /** @internal */ @Optional() protected readonly rateSync?: RateSync,
    /** @internal */ @Optional() protected readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Runs the handler under a permit; HTTP contexts and unlimited handlers pass straight through. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') return next.handle();
    const limit = this.limits.forContext(context);
    if (!limit) return next.handle();
    return new Observable((subscriber) => {
      let permit: Permit | undefined;
      let inner: Subscription | undefined;
      let closed = false;
      let error: unknown;
      this.admit(context, limit).then(
        (admitted) => {
          if (!admitted) return subscriber.complete(); // a dropped event
          if (closed) return void admitted.release();
          permit = admitted;
          try {
            inner = next.handle().subscribe({
              next: (value) => subscriber.next(value),
              error: (err: unknown) => {
                error = err;
                subscriber.error(err);
              },
              complete: () => subscriber.complete(),
            });
          } catch (err) {
            error = err;
            subscriber.error(err);
          }
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => {
        closed = true;
        inner?.unsubscribe();
        if (permit) void limit.settle(permit, { error });
      };
    });
  }

  /** The HTTP request behind a GraphQL call (`req` of the GraphQL context), if any; else undefined. */
  protected getRequest(context: ExecutionContext): RequestLike | undefined {
    return context.getType<string>() === 'graphql' ? graphqlRequest(context) : undefined;
  }

  /**
   * What the call's keys are computed from. GraphQL: the HTTP request (`{ip}`, `{headers.x}`,
   * `{user.id}`) and the resolver's arguments (`{args.id}`). WebSocket: the handshake (`{ip}`
   * through trusted proxies, `{headers.x}`, `{query.x}`). Elsewhere: the arguments only.
   * @internal Its return type is internal; override `getRequest` to change the request read.
   */
  protected getKeySource(context: ExecutionContext): KeySource {
    if (context.getType() === 'ws') {
      return websocketKeySource(context, context.getArgByIndex(0), this.settings.trustedProxies);
    }
    const request = this.getRequest(context);
    return {
      context,
      request,
      args: context.getArgs(),
      resolverArgs: context.getType<string>() === 'graphql' ? graphqlArgs(context) : undefined,
      ip: () => (request ? requestClientIp(request, this.settings.trustedProxies) : undefined),
      ipv6Subnet: this.settings.ipv6Subnet,
    };
  }

  /**
   * What a rejection (or a fail_closed store outage) becomes: the error to throw, or undefined
   * to complete without running the handler (an `@EventPattern` event, which has no reply).
   */
  protected onRejected(
    context: ExecutionContext,
    limit: CompiledLimit,
    subject: RateLimitResult | StoreUnavailableError,
  ): Error | undefined {
    switch (context.getType<string>()) {
      case 'graphql':
        this.setRetryAfter(graphqlResponse(context), subject);
        return new GraphqlRateLimitError(subject);
      case 'ws':
        return wsRateLimitException(rateLimitRejection(subject));
      case 'rpc':
        if (!isEventHandler(context.getHandler())) {
          return rpcRateLimitException(rateLimitRejection(subject));
        }
        this.droppedEvents.dropped(context.getHandler(), limit.where, subject, Date.now());
        return undefined;
      default:
        return subject instanceof StoreUnavailableError
          ? subject
          : new RateLimitExceededError(subject);
    }
  }

  private async admit(
    context: ExecutionContext,
    limit: CompiledLimit,
  ): Promise<Permit | undefined> {
    let subject: RateLimitResult | StoreUnavailableError;
    try {
      const { result, permit } = await limit.acquire(limit.keys(this.getKeySource(context)));
      if (permit) return permit;
      subject = result;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      subject = err;
    }
    const error = this.onRejected(context, limit, subject);
    if (error) throw error;
    return undefined;
  }

  /** Sets the rejection's header fields (with `Retry-After`) on a GraphQL call's HTTP response. */
  private setRetryAfter(response: unknown, subject: RateLimitResult | StoreUnavailableError): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!response || !adapter || !this.rateSync) return;
    for (const [name, value] of responseHeaders(subject, this.settings, this.rateSync)) {
      adapter.setHeader(response, name, value);
    }
  }
}
