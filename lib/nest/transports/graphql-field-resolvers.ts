import type { ModuleRef } from '@nestjs/core';
import { RateSyncError } from '../../core';
import type { FunctionLike } from '../function-like';

/** `@nestjs/graphql` RESOLVER_PROPERTY_METADATA (`@ResolveField`) and GRAPHQL_MODULE_OPTIONS. */
const RESOLVE_PROPERTY_METADATA = 'graphql:resolve_property';
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';

/** True for a `@ResolveField` method. */
export function isFieldResolver(method: FunctionLike): boolean {
  return Reflect.getMetadata(RESOLVE_PROPERTY_METADATA, method) === true;
}

/**
 * Whether `@nestjs/graphql` runs interceptors on field resolvers: only with
 * `fieldResolverEnhancers: ['interceptors']`. Undefined when no `GraphQLModule` options are
 * registered (nothing to check).
 */
export function fieldResolversIntercepted(moduleRef: ModuleRef): boolean | undefined {
  let options: { fieldResolverEnhancers?: readonly string[] } | undefined;
  try {
    options = moduleRef.get(GRAPHQL_MODULE_OPTIONS, { strict: false });
  } catch {
    return undefined; // not registered: the application has no GraphQLModule
  }
  return options?.fieldResolverEnhancers?.includes('interceptors') ?? false;
}

/** The boot error for limited field resolvers that Nest would run without interceptors. */
export function fieldResolversNotIntercepted(handlers: string[]): RateSyncError {
  return new RateSyncError(
    `@RateLimit on the field resolver(s) ${handlers.join(', ')}: @nestjs/graphql runs ` +
      `interceptors on field resolvers only with GraphQLModule.forRoot({ ` +
      `fieldResolverEnhancers: ['interceptors'] }), so the limit would not be enforced. ` +
      `Add that option, or limit the query instead.`,
  );
}
