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
import { finalize, Observable, type Subscription } from 'rxjs';
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
import { anyRuleSkips } from './limits/skip-rule';
import { RateLimitRegistry } from './limits/rate-limit.registry';
import { RATE_SYNC_SETTINGS } from './rate-sync.constants';
import type { RateSyncSettings } from './rate-sync-settings';
import {
  graphqlArgs,
  graphqlRequest,
  graphqlResponse,
  GraphqlRateLimitError,
} from './transports/graphql-call';
import { returnsPromise } from './explorer/promise-return';
import type { FunctionLike } from './function-like';
import { DroppedEventLog, isEventHandler } from './transports/microservice-event';
import { rateLimitRejection } from './transports/rate-limit-rejection';
import { rpcRateLimitException, wsRateLimitException } from './transports/transport-exceptions';
import { websocketKeySource } from './transports/websocket-handshake';

/**
 * The calls a RateLimitInterceptor has taken: Nest gives every interceptor of one call the same
 * context, and on Nest 12 a gateway bound with `@UseInterceptors` is reached by the global one
 * (`nonHttp`) too. The first one counts the call; the others let it through.
 */
const counted = new WeakSet<ExecutionContext>();

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
  private readonly promiseHandlers = new WeakMap<FunctionLike, boolean>();

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
    if (!limit || counted.has(context)) return next.handle();
    counted.add(context);
    const runsToCompletion = this.runsToCompletion(context);
    return new Observable((subscriber) => {
      let inner: Subscription | undefined;
      let closed = false;
      this.admit(context, limit).then(
        (permit) => {
          if (permit === undefined) return subscriber.complete(); // a dropped event
          if (closed) return void permit?.release();
          // Released when the handler's work is over, or refunded when `refundWhen` says so;
          // a skipped call (null) holds nothing.
          let error: unknown;
          try {
            // Its own subscriber (not `subscriber`), so that it can outlive the caller's.
            inner = next
              .handle()
              .pipe(finalize(() => void (permit && limit.settle(permit, { error }))))
              .subscribe({
                next: (value) => subscriber.next(value),
                error: (err: unknown) => {
                  error = err;
                  subscriber.error(err);
                },
                complete: () => subscriber.complete(),
              });
          } catch (err) {
            if (permit) void limit.settle(permit, { error: err });
            subscriber.error(err);
          }
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => {
        closed = true;
        // The caller left (a WebSocket client disconnected). A Promise handler keeps running
        // whatever we do, so its slot stays held until it settles: the slot bounds work, not
        // connections. An Observable handler stops when unsubscribed, which frees the slot.
        if (!runsToCompletion) inner?.unsubscribe();
      };
    });
  }

  /** Whether the handler returns a Promise, whose work unsubscribing cannot stop. */
  private runsToCompletion(context: ExecutionContext): boolean {
    const handler = context.getHandler() as FunctionLike;
    let known = this.promiseHandlers.get(handler);
    if (known === undefined) {
      const proto = context.getClass().prototype as object;
      known = returnsPromise(proto, handler.name, handler);
      this.promiseHandlers.set(handler, known);
    }
    return known;
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

  /** The permit; null: skipped (`skip` option), runs unlimited; undefined: a dropped event. */
  private async admit(
    context: ExecutionContext,
    limit: CompiledLimit,
  ): Promise<Permit | null | undefined> {
    const skips = (this.settings.skip || limit.skipRule) && [this.settings.skip, limit.skipRule];
    if (skips && (await anyRuleSkips(skips, context))) return null;
    let subject: RateLimitResult | StoreUnavailableError;
    try {
      const { result, permit } = await limit.run(this.getKeySource(context));
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
