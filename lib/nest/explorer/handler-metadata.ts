import type { FunctionLike } from '../function-like';

/**
 * Metadata keys that mark a method Nest invokes through its enhancer pipeline (where the guard
 * and the interceptor apply), written as strings so that no optional package is imported:
 * routes (`@Get`...), microservice patterns, WebSocket messages, GraphQL resolvers.
 */
const HANDLER_METADATA_KEYS = [
  'path', // @nestjs/common PATH_METADATA
  'microservices:pattern', // @nestjs/microservices PATTERN_METADATA
  '__isMessageMapping', // @nestjs/websockets MESSAGE_MAPPING_METADATA
  'graphql:resolver_type', // @nestjs/graphql RESOLVER_TYPE_METADATA (@Query, @Mutation...)
  'graphql:resolver_name', // @nestjs/graphql RESOLVER_NAME_METADATA
  'graphql:resolve_property', // @nestjs/graphql RESOLVER_PROPERTY_METADATA (@ResolveField)
];

/** True for a route, message, resolver or gateway handler; false for a plain method. */
export function isEnhancedHandler(method: FunctionLike): boolean {
  return HANDLER_METADATA_KEYS.some((key) => Reflect.getMetadata(key, method) !== undefined);
}
