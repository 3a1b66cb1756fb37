import { Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { RateSyncError } from '../../core';
import type { FunctionLike } from '../function-like';
import { RateLimitRegistry } from '../limits/rate-limit.registry';
import { RateLimitMetadataAccessor } from '../rate-limit-metadata.accessor';
import { RATE_SYNC_SETTINGS } from '../rate-sync.constants';
import type { RateSyncSettings } from '../rate-sync-settings';
import {
  hasOwnRateLimitInterceptor,
  isEnhancedHandler,
  isGateway,
  isNonHttpHandler,
  isWebSocketHandler,
} from './handler-metadata';
import { limitMethod } from './limit-method';
import {
  fieldResolversIntercepted,
  fieldResolversNotIntercepted,
  isFieldResolver,
} from '../transports/graphql-field-resolvers';
import { limitConnections } from '../transports/websocket-connection-limit';
import { assertReturnsPromise } from './promise-return';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Runs at bootstrap, before the stores connect: validates every `@RateLimit` in the
 * application (an unknown limiter id, a bad template or a non-HTTP handler that no
 * `RateLimitInterceptor` reaches fails the boot, not the first request) and wraps the decorated
 * methods of providers that are not handlers.
 */
@Injectable()
export class RateLimitExplorer {
  private readonly logger = new Logger('RateSync');
  /** `Class.method` of each limited `@ResolveField`, checked against the GraphQL options. */
  private readonly limitedFieldResolvers: string[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: RateLimitMetadataAccessor,
    private readonly registry: RateLimitRegistry,
    @Inject(RATE_SYNC_SETTINGS) private readonly settings: RateSyncSettings,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * @throws LimiterNotFoundError naming an unknown limiter and listing the known ones
   * @throws InvalidArgumentError / RateSyncError for a declaration that cannot work (e.g. on a
   *   provider method not declared to return a Promise)
   */
  explore(): void {
    const unintercepted: string[] = [];
    this.limitedFieldResolvers.length = 0;
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    for (const wrapper of wrappers) {
      if (wrapper.isAlias) continue;
      const instances = this.instancesOf(wrapper);
      // Class providers by their class; factory and value providers by what they produced.
      const cls = (!wrapper.isFactory && wrapper.metatype) || instances[0]?.constructor;
      if (typeof cls !== 'function' || !cls.prototype || cls === Object) continue;
      const fresh = instances.filter((i) => !seen.has(i) && i instanceof cls);
      fresh.forEach((i) => seen.add(i));
      if (instances.length === 0 || fresh.length > 0) {
        this.exploreClass(cls as Type, fresh, unintercepted);
      }
    }
    if (unintercepted.length > 0) throw this.interceptorMissing(unintercepted);
    this.warnUnmatchedDefaultLimitPatterns();
    const fields = this.limitedFieldResolvers;
    if (fields.length > 0 && fieldResolversIntercepted(this.moduleRef) === false) {
      throw fieldResolversNotIntercepted(fields);
    }
  }

  /** Validates and wraps the class's methods; adds to `unintercepted` (see `checkNonHttp`). */
  private exploreClass(cls: Type, instances: object[], unintercepted: string[]): void {
    let handlers = 0;
    let limitedHandlers = 0;
    const gateway = isGateway(cls);
    for (const name of this.scanner.getAllMethodNames(cls.prototype)) {
      const method = (cls.prototype as Record<string, unknown>)[name];
      if (typeof method !== 'function') continue;
      if (gateway && name === 'handleConnection') continue; // see limitGatewayConnections
      if (isEnhancedHandler(method)) {
        handlers++;
        const limit = this.registry.forHandler(cls, method); // compiles, so validates, now
        if (limit) limitedHandlers++;
        if (limit && isFieldResolver(method))
          this.limitedFieldResolvers.push(`${cls.name}.${name}`);
        if (limit && isNonHttpHandler(method)) this.checkNonHttp(cls, name, method, unintercepted);
        continue;
      }
      const limit = this.registry.forMethod(cls, method, name);
      if (!limit) continue;
      this.assertWrappable(cls, name, instances);
      assertReturnsPromise(cls, name, method);
      for (const instance of instances) limitMethod(instance, name, cls, limit);
    }
    if (gateway) this.limitGatewayConnections(cls, instances, limitedHandlers > 0);
    if (handlers === 0 && this.accessor.onClass(cls)) {
      throw new RateSyncError(
        `@RateLimit on the class ${cls.name}, which has no route, resolver or message handler: ` +
          `put @RateLimit on the methods to limit.`,
      );
    }
  }

  /**
   * A gateway's `handleConnection`: limited when it carries `@RateLimit` (a slot held for the
   * life of each connection), and wrapped too when message handlers are limited, so that `ws`
   * clients' upgrade requests are recorded for their keys.
   */
  private limitGatewayConnections(cls: Type, instances: object[], messagesLimited: boolean): void {
    const method = (cls.prototype as Record<string, unknown>).handleConnection;
    if (typeof method !== 'function') return;
    const limit = this.registry.forConnection(cls, method as FunctionLike);
    if (!limit && !messagesLimited) return;
    const options = { cls, limit, proxies: this.settings.trustedProxies, logger: this.logger };
    for (const instance of instances) limitConnections(instance, options);
  }

  /**
   * A limited non-HTTP handler needs `RateLimitInterceptor` exactly once: global (`nonHttp`) or
   * bound with `@UseInterceptors`. Neither: added to `unintercepted`. Both: counted twice, throws.
   * Nest 11 applies no global interceptor to WebSocket gateways, so those need it bound (Nest 12
   * does apply it; the interceptor then counts the call once).
   */
  private checkNonHttp(
    cls: Type,
    name: string,
    method: FunctionLike,
    unintercepted: string[],
  ): void {
    const bound = hasOwnRateLimitInterceptor(cls, method);
    const global = this.settings.nonHttp && !isWebSocketHandler(method);
    if (!bound && !global) unintercepted.push(`${cls.name}.${name}`);
    if (bound && global) {
      throw new RateSyncError(
        `@RateLimit on ${cls.name}.${name} would count every call twice: RateSyncModule's ` +
          `nonHttp option registers RateLimitInterceptor globally and @UseInterceptors binds it ` +
          `again. Remove one of them.`,
      );
    }
  }

  private warnUnmatchedDefaultLimitPatterns(): void {
    const unmatched = this.registry.unmatchedDefaultLimitPatterns();
    if (unmatched.length === 0) return;
    this.logger.warn(
      `RateSyncModule's defaultLimit: ${unmatched.map((p) => `'${p}'`).join(', ')} match no ` +
        `route. Patterns are matched against the declared paths, global prefix included ` +
        `(e.g. '/api/health'), versions not.`,
    );
  }

  private interceptorMissing(handlers: string[]): RateSyncError {
    return new RateSyncError(
      `@RateLimit on ${handlers.join(', ')}: a handler that is not an HTTP route is limited ` +
        `only by RateLimitInterceptor, and none is registered for it. ` +
        `Set RateSyncModule.forRoot({ nonHttp: true }) ` +
        `(or return nonHttp: true from forRootAsync's factory), or add ` +
        `@UseInterceptors(RateLimitInterceptor) to the handler or its class. ` +
        `Nest 11 does not apply global interceptors to WebSocket gateways: bind it there with ` +
        `@UseInterceptors(RateLimitInterceptor) (on Nest 12 too: the call is counted once).`,
    );
  }

  /** The instances to wrap: the singleton, or each static transient instance. */
  private instancesOf(wrapper: InstanceWrapper): object[] {
    if (!wrapper.isDependencyTreeStatic()) return [];
    const all: unknown[] = wrapper.isTransient
      ? wrapper.getStaticTransientInstances().map((i) => i?.instance)
      : [wrapper.instance];
    return all.filter((i): i is object => typeof i === 'object' && i !== null);
  }

  private assertWrappable(cls: Type, name: string, instances: object[]): void {
    if (instances.length > 0) return;
    throw new RateSyncError(
      `@RateLimit on ${cls.name}.${name}: ${cls.name} is request-scoped (or depends on a ` +
        `request-scoped provider), so it cannot be wrapped at bootstrap. Make it a singleton, ` +
        `or call LimiterService.run() inside the method.`,
    );
  }
}
