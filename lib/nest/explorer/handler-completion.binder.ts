import { Injectable, UseInterceptors } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { RateSync } from '../../core';
import { HandlerCompletionInterceptor } from '../handler-completion.interceptor';
import { RateLimitMetadataAccessor } from '../rate-limit-metadata.accessor';
import type { FunctionLike } from '../function-like';

/** The one instance bound to routes (an instance needs no provider in the route's module). */
const COMPLETION = new HandlerCompletionInterceptor();
/** Handlers bound already (an application may be created many times, as in tests). */
const bound = new WeakSet<FunctionLike>();

/**
 * Binds {@link HandlerCompletionInterceptor} to the HTTP routes whose `@RateLimit` holds
 * concurrency slots, so that their slot is held while the handler runs, or has `refundWhen`,
 * which needs what the handler threw. Only those: Nest's interceptor pipeline costs more per
 * request than the limiter itself, and a rate-only permit has nothing to release. Runs when the module's providers are created, before Nest registers
 * the routes (which reads each route's interceptors then).
 */
@Injectable()
export class HandlerCompletionBinder {
  constructor(
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    accessor: RateLimitMetadataAccessor,
    rateSync: RateSync,
  ) {
    const holdsSlots = (id: string): boolean => rateSync.policy(id)?.concurrency !== undefined;
    for (const { metatype } of discovery.getControllers()) {
      if (typeof metatype !== 'function') continue;
      const proto = (metatype as { prototype: Record<string, FunctionLike> }).prototype;
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = proto[name];
        const declaration = accessor.forHandler(metatype, handler);
        if (!declaration) continue;
        if (declaration.options.refundWhen || declaration.limiterIds.some(holdsSlots)) {
          bindCompletion(proto, name, handler);
        }
      }
    }
  }
}

/** What `@UseInterceptors(COMPLETION)` on the method would do, once per method. */
function bindCompletion(proto: object, name: string, handler: FunctionLike): void {
  if (bound.has(handler)) return;
  bound.add(handler);
  UseInterceptors(COMPLETION)(proto, name, { value: handler });
}
