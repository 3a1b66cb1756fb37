import { Inject, Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { RateSync } from '../../core';
import type { RateLimitDeclaration } from '../decorators/rate-limit-options.interface';
import { declaredRoutePaths } from '../routes/route-paths';
import { RateLimitMetadataAccessor } from '../rate-limit-metadata.accessor';
import { RATE_SYNC_SETTINGS } from '../rate-sync.constants';
import type { RateSyncSettings } from '../rate-sync-settings';
import type { CompiledLimit } from './compiled-limit';
import { compileLimit } from './compile-limit';
import type { FunctionLike } from '../function-like';

type Handlers = WeakMap<FunctionLike, CompiledLimit | null>;

/**
 * The compiled `@RateLimit` of every handler, compiled once (at bootstrap by the explorer,
 * which validates them all) and then looked up per call in a WeakMap: a handler without a
 * declaration costs one lookup. An HTTP route without one gets the module's `defaultLimit`
 * when that covers it, decided in the same compilation.
 */
@Injectable()
export class RateLimitRegistry {
  private readonly byClass = new WeakMap<FunctionLike, Handlers>();
  private readonly logger = new Logger('RateSync');
  /** The declared paths of the HTTP routes seen, for `defaultLimit`'s unmatched patterns. */
  private readonly routePaths = new Set<string>();

  constructor(
    private readonly accessor: RateLimitMetadataAccessor,
    private readonly rateSync: RateSync,
    @Inject(RATE_SYNC_SETTINGS) private readonly settings: RateSyncSettings,
    private readonly appConfig: ApplicationConfig,
  ) {}

  /** The limit of the handler a context runs, or undefined when it is not limited. */
  forContext(context: ExecutionContext): CompiledLimit | undefined {
    return this.forHandler(context.getClass(), context.getHandler());
  }

  /**
   * The limit of a route, resolver, gateway or message handler (its own `@RateLimit`, else its
   * class's, else the module's `defaultLimit` for an HTTP route it covers, unless
   * `@SkipRateLimit()`).
   * @throws LimiterNotFoundError / InvalidArgumentError when the declaration is invalid
   */
  forHandler(cls: FunctionLike, handler: FunctionLike): CompiledLimit | undefined {
    let handlers = this.byClass.get(cls);
    if (!handlers) this.byClass.set(cls, (handlers = new WeakMap()));
    let compiled = handlers.get(handler);
    if (compiled === undefined) {
      const declaration =
        this.accessor.forHandler(cls, handler) ?? this.defaultLimitOf(cls, handler);
      const where = `${cls.name}.${handler.name}`;
      compiled = declaration
        ? compileLimit(
            declaration,
            where,
            'handler',
            this.rateSync,
            this.logger,
            this.settings.decisionLog,
          )
        : null;
      handlers.set(handler, compiled);
    }
    return compiled ?? undefined;
  }

  /**
   * Patterns of `defaultLimit` that matched none of the routes compiled so far (after the
   * explorer compiled them all: likely typos, or a forgotten global prefix).
   */
  unmatchedDefaultLimitPatterns(): string[] {
    return this.settings.defaultLimit?.unmatched([...this.routePaths]) ?? [];
  }

  /** `defaultLimit`'s declaration when it covers this HTTP route (no `@SkipRateLimit()`). */
  private defaultLimitOf(cls: FunctionLike, handler: FunctionLike): RateLimitDeclaration | null {
    const defaults = this.settings.defaultLimit;
    if (!defaults || this.accessor.isSkipped(cls, handler)) return null;
    const paths = declaredRoutePaths(cls, handler, {
      prefix: this.appConfig.getGlobalPrefix(),
      exclude: this.appConfig.getGlobalPrefixOptions().exclude,
    });
    if (!paths) return null;
    paths.forEach((p) => this.routePaths.add(p));
    return defaults.covers(paths) ? defaults.declarationFor(`${cls.name}.${handler.name}`) : null;
  }

  /**
   * The limit on a WebSocket gateway's `handleConnection` (its own `@RateLimit` only), compiled
   * like a handler's: keys read the handshake. Held for the life of each connection.
   */
  forConnection(cls: FunctionLike, method: FunctionLike): CompiledLimit | undefined {
    const declaration = this.accessor.onMethod(method);
    if (!declaration) return undefined;
    const where = `${cls.name}.handleConnection`;
    return compileLimit(declaration, where, 'handler', this.rateSync, this.logger);
  }

  /**
   * The limit of a provider method (its own `@RateLimit` only), compiled for argument keys.
   * Not cached: the explorer compiles each method once, when it wraps it.
   */
  forMethod(cls: FunctionLike, method: FunctionLike, name: string): CompiledLimit | undefined {
    const declaration = this.accessor.onMethod(method);
    if (!declaration) return undefined;
    const where = `${cls.name}.${name}`;
    const log = this.settings.decisionLog;
    return compileLimit(declaration, where, 'method', this.rateSync, this.logger, log);
  }
}
