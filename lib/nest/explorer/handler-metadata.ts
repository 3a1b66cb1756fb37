import type { FunctionLike } from '../function-like';
import { RateLimitInterceptor } from '../rate-limit.interceptor';

/** `@nestjs/common` PATH_METADATA: an HTTP route (`@Get`...), which the guard limits. */
const ROUTE_METADATA_KEY = 'path';
/**
 * `@nestjs/common` INTERCEPTORS_METADATA (`@UseInterceptors`), as a string: Nest 12's package
 * "exports" do not resolve `@nestjs/common/constants`.
 */
const INTERCEPTORS_METADATA = '__interceptors__';

/**
 * Metadata keys of the handlers Nest invokes outside HTTP, where only `RateLimitInterceptor`
 * can limit them, written as strings so that no optional package is imported.
 */
const NON_HTTP_HANDLER_METADATA_KEYS = [
  'microservices:pattern', // @nestjs/microservices PATTERN_METADATA (@MessagePattern, @EventPattern)
  'websockets:message_mapping', // @nestjs/websockets MESSAGE_MAPPING_METADATA (@SubscribeMessage)
  'graphql:resolver_type', // @nestjs/graphql RESOLVER_TYPE_METADATA (@Query, @Mutation...)
  'graphql:resolver_name', // @nestjs/graphql RESOLVER_NAME_METADATA
  'graphql:resolve_property', // @nestjs/graphql RESOLVER_PROPERTY_METADATA (@ResolveField)
];

/** True for a GraphQL resolver, WebSocket message or microservice pattern handler. */
export function isNonHttpHandler(method: FunctionLike): boolean {
  return NON_HTTP_HANDLER_METADATA_KEYS.some(
    (key) => Reflect.getMetadata(key, method) !== undefined,
  );
}

/** True for a `@SubscribeMessage` handler, which Nest 11 runs without global interceptors. */
export function isWebSocketHandler(method: FunctionLike): boolean {
  return Reflect.getMetadata(NON_HTTP_HANDLER_METADATA_KEYS[1], method) !== undefined;
}

/** True for a route, message, resolver or gateway handler; false for a plain method. */
export function isEnhancedHandler(method: FunctionLike): boolean {
  return Reflect.getMetadata(ROUTE_METADATA_KEY, method) !== undefined || isNonHttpHandler(method);
}

/**
 * True when `@UseInterceptors()` on the handler or on its class binds `RateLimitInterceptor`
 * (or a subclass, or an instance of either), so the handler is limited without the global one.
 */
export function hasOwnRateLimitInterceptor(cls: FunctionLike, handler: FunctionLike): boolean {
  const bound = [handler, cls].flatMap(
    (target) => (Reflect.getMetadata(INTERCEPTORS_METADATA, target) as unknown[] | undefined) ?? [],
  );
  return bound.some(
    (interceptor) =>
      interceptor instanceof RateLimitInterceptor ||
      interceptor === RateLimitInterceptor ||
      (typeof interceptor === 'function' && interceptor.prototype instanceof RateLimitInterceptor),
  );
}

/** `@nestjs/websockets` GATEWAY_METADATA (`@WebSocketGateway`). */
const GATEWAY_METADATA = 'websockets:is_gateway';

/** True for a `@WebSocketGateway` class. */
export function isGateway(cls: FunctionLike): boolean {
  return Reflect.getMetadata(GATEWAY_METADATA, cls) === true;
}
