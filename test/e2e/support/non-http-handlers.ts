import { applyDecorators, SetMetadata, type INestApplicationContext } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';

// Stand-ins that leave on the method the same metadata as the real decorators (which is what Nest
// and rate-sync read), for tests that call handlers without a transport. The real packages are
// exercised end to end in graphql, websockets and microservices.e2e-spec.ts.

/** What `@MessagePattern(pattern)` of @nestjs/microservices marks a method with. */
export const MessagePattern = (pattern: string): MethodDecorator =>
  applyDecorators(
    SetMetadata('microservices:pattern', [pattern]),
    SetMetadata('microservices:handler_type', 1),
  );

/** What `@SubscribeMessage(message)` of @nestjs/websockets marks a method with. */
export const SubscribeMessage = (message: string): MethodDecorator =>
  applyDecorators(SetMetadata('websockets:message_mapping', true), SetMetadata('message', message));

/** What `@Query()` of @nestjs/graphql marks a method with. */
export const Query = (): MethodDecorator => SetMetadata('graphql:resolver_type', 'Query');

/**
 * Calls `instance[method](...args)` the way Nest's microservice, WebSocket and GraphQL layers
 * do (through `ExternalContextCreator`: global and bound guards and interceptors, in a context
 * of `type`), and resolves with the handler's result.
 */
export function invokeAs(
  app: INestApplicationContext,
  type: 'rpc' | 'ws' | 'graphql',
  instance: object,
  method: string,
  args: unknown[],
): Promise<unknown> {
  const callback = (instance as Record<string, (...a: unknown[]) => unknown>)[method];
  const handler = app
    .get(ExternalContextCreator)
    .create(
      instance,
      callback,
      method,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      type,
    );
  return handler(...args) as Promise<unknown>;
}
