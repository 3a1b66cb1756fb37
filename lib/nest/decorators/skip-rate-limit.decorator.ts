import { SetMetadata } from '@nestjs/common';
import { RATE_LIMIT_METADATA } from '../rate-sync.constants';
import type { SkipRateLimitDeclaration } from './rate-limit-options.interface';

/**
 * Opts a handler (or a whole controller) out of a `@RateLimit` declared at class level.
 * A handler's own `@RateLimit` still wins over a class-level `@SkipRateLimit()`.
 */
export function SkipRateLimit(): ClassDecorator & MethodDecorator {
  const declaration: SkipRateLimitDeclaration = { skip: true };
  return SetMetadata(RATE_LIMIT_METADATA, declaration);
}
