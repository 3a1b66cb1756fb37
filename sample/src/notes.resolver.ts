import { UseInterceptors } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import { RateLimit, RateLimitInterceptor } from '@rate-sync/nestjs';

/**
 * POST /graphql `{ notes }`: 3 queries per 60 s per user. The user is the `x-user-id` header,
 * standing in for your authentication (with it, key on `{user.id}`). The interceptor is bound
 * here rather than globally (`nonHttp: true`), so the HTTP routes skip Nest's interceptor
 * pipeline.
 */
@Resolver()
@UseInterceptors(RateLimitInterceptor)
export class NotesResolver {
  @Query(() => [String])
  @RateLimit('graphql_notes', { key: 'user:{headers.x-user-id}' })
  notes(): string[] {
    return ['rate limits are per user', 'the 4th query in a minute is RATE_LIMITED'];
  }
}
