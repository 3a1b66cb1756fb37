import { Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type {
  RateLimitDeclaration,
  RateLimitMetadata,
} from './decorators/rate-limit-options.interface';
import { RATE_LIMIT_METADATA } from './rate-sync.constants';
import type { FunctionLike } from './function-like';

/** The one place that reads `@RateLimit` / `@SkipRateLimit` metadata. */
@Injectable()
export class RateLimitMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  /**
   * The declaration that applies to a handler: the handler's own, else its class's; undefined
   * when there is none or `@SkipRateLimit()` wins.
   */
  forHandler(cls: Type | FunctionLike, handler: FunctionLike): RateLimitDeclaration | undefined {
    const metadata = this.reflector.getAllAndOverride<RateLimitMetadata | undefined>(
      RATE_LIMIT_METADATA,
      [handler, cls],
    );
    return metadata && !metadata.skip ? metadata : undefined;
  }

  /** True when `@SkipRateLimit()` applies to the handler (its own, or its class's). */
  isSkipped(cls: Type | FunctionLike, handler: FunctionLike): boolean {
    const metadata = this.reflector.getAllAndOverride<RateLimitMetadata | undefined>(
      RATE_LIMIT_METADATA,
      [handler, cls],
    );
    return metadata?.skip === true;
  }

  /** The declaration on a method itself, ignoring its class. */
  onMethod(handler: FunctionLike): RateLimitDeclaration | undefined {
    const metadata = this.reflector.get<RateLimitMetadata | undefined>(
      RATE_LIMIT_METADATA,
      handler,
    );
    return metadata && !metadata.skip ? metadata : undefined;
  }

  /** The declaration on a class itself. */
  onClass(cls: Type | FunctionLike): RateLimitDeclaration | undefined {
    const metadata = this.reflector.get<RateLimitMetadata | undefined>(RATE_LIMIT_METADATA, cls);
    return metadata && !metadata.skip ? metadata : undefined;
  }
}
