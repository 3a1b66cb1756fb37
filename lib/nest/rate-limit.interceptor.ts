import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import { RateLimitExceededError, type Permit } from '../core';
import { requestClientIp } from './http/client-ip';
import type { KeySource, RequestLike } from './keys/key-source';
import type { CompiledLimit } from './limits/compiled-limit';
import { RateLimitRegistry } from './limits/rate-limit.registry';
import { RATE_SYNC_SETTINGS } from './rate-sync.constants';
import type { RateSyncSettings } from './rate-sync-settings';

/**
 * Limits handlers that are not HTTP routes (GraphQL resolvers, WebSocket gateways, microservice
 * patterns): it acquires before the handler, throws the plain {@link RateLimitExceededError}
 * when rejected (no HTTP exception, no headers) and releases when the handler's observable
 * completes, errors or is unsubscribed. HTTP routes are left to `RateLimitGuard`.
 *
 * `RateSyncModule` registers it globally only with `nonHttp: true`; otherwise bind it where it
 * is needed with `@UseInterceptors(RateLimitInterceptor)` (the boot fails on a limited non-HTTP
 * handler that it does not reach).
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  /** @internal Nest creates the interceptor; the parameters are the module's internals. */
  constructor(
    /** @internal */ protected readonly limits: RateLimitRegistry,
    /** @internal */ @Inject(RATE_SYNC_SETTINGS) protected readonly settings: RateSyncSettings,
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
      this.admit(context, limit).then(
        (admitted) => {
          if (closed) return void admitted.release();
          permit = admitted;
          try {
            inner = next.handle().subscribe(subscriber);
          } catch (err) {
            subscriber.error(err);
          }
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => {
        closed = true;
        inner?.unsubscribe();
        void permit?.release();
      };
    });
  }

  /** The HTTP request behind a GraphQL call (`context.req`), if any; else undefined. */
  protected getRequest(context: ExecutionContext): RequestLike | undefined {
    if (context.getType<string>() !== 'graphql') return undefined;
    const gqlContext = context.getArgByIndex<{ req?: RequestLike } | undefined>(2);
    return gqlContext?.req?.headers ? gqlContext.req : undefined;
  }

  private async admit(context: ExecutionContext, limit: CompiledLimit): Promise<Permit> {
    const request = this.getRequest(context);
    const source: KeySource = {
      context,
      request,
      args: context.getArgs(),
      ip: () => (request ? requestClientIp(request, this.settings.trustedProxies) : undefined),
      ipv6Subnet: this.settings.ipv6Subnet,
    };
    const { result, permit } = await limit.acquire(limit.keys(source));
    if (!permit) throw new RateLimitExceededError(result);
    return permit;
  }
}
