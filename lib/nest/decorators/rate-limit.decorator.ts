import { SetMetadata } from '@nestjs/common';
import { RATE_LIMIT_METADATA } from '../rate-sync.constants';
import type {
  RateLimitDeclaration,
  RateLimitOptions,
  RateLimitTiers,
} from './rate-limit-options.interface';
import { validateRateLimit } from './validate-rate-limit';

/**
 * Limits a controller (every handler), a handler, or a method of any provider.
 *
 * On HTTP handlers the guard acquires before the handler runs and answers 429 when rejected;
 * the permit is released when both the handler's work and the response are over (a client
 * that disconnects does not free a concurrency slot while its handler runs). On provider
 * methods the call is wrapped at bootstrap (`mode: 'wait'` waits for its slot, `'try'` throws
 * `RateLimitExceededError`). Several ids form one all-or-nothing composite limit;
 * `{ among, pick }` picks one limiter per call (a plan's tier).
 *
 * Unknown limiter ids make the application fail to boot; bad options throw here.
 *
 * @example
 * ```ts
 * @RateLimit('login', { key: 'login:{body.email}' })
 * @RateLimit(['auth_ip', 'auth_credential'], { key: { auth_ip: '{ip}', auth_credential: '{body.email}' } })
 * @RateLimit('partner_api')            // on a service method: waits for its turn
 * @RateLimit({ among: ['api_free', 'api_pro'], pick: (ctx) => planOf(ctx) }, { key: '{user.id}' })
 * ```
 */
export function RateLimit(
  idOrIds: string | readonly string[] | RateLimitTiers,
  options: RateLimitOptions = {},
): ClassDecorator & MethodDecorator {
  const { limiterIds, pick } = validateRateLimit(idOrIds, options);
  const declaration: RateLimitDeclaration = {
    limiterIds,
    options: { ...options },
    ...(pick && { pick }),
  };
  return SetMetadata(RATE_LIMIT_METADATA, declaration);
}
