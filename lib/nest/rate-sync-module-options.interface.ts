import type { Type } from '@nestjs/common';
import type { Clock, LimiterOptions, MetricsExportOptions, StoreOptions } from '../core';
import type { DecisionLogOptions } from './decision-log';
import type { RateLimitHeadersMode, ResetHeaderMode } from './http/rate-limit-headers';
import type { RefusalBodyOption } from './http/refusal-body';
import type { SkipFunction } from './limits/skip-rule';
import type { DefaultLimitOptions } from './routes/default-limit';
import type { RateLimitGuard } from './rate-limit.guard';

/** Options of `RateSyncModule.forRoot()` (or what `forRootAsync`'s factory returns). */
export interface RateSyncModuleOptions {
  /**
   * The TOML file to load (relative to the working directory), or `false` for none.
   * @default discovery: `RATE_SYNC_CONFIG`, `./rate-sync.toml`, `./config/rate-sync.toml`
   */
  configFile?: string | false;
  /** Stores declared in code (camelCase or snake_case keys), merged over the file's. */
  stores?: Record<string, Partial<StoreOptions>>;
  /** Limiters declared in code (camelCase or snake_case keys), merged over the file's. */
  limiters?: Record<string, Partial<LimiterOptions>>;
  /**
   * CIDRs of the reverse proxies in front of the application (`['10.0.0.0/8', '::1']`). When
   * the socket peer is one of them, the client IP is the right-most `X-Forwarded-For` address
   * that is not. Default: the file's `[fastapi] trusted_proxy_networks`, else none (the socket
   * address is the client).
   */
  trustedProxies?: string[];
  /**
   * IPv6 clients are counted by their network of this prefix length, not address by address:
   * a customer of an IPv6 ISP usually holds a whole /56 (or /48, /64) and can send from any
   * address in it. Applies to the default key of HTTP handlers and to `{ip}` in key templates
   * (`{ip|v6/64}` overrides it per template). IPv4 addresses, including IPv4-mapped IPv6 ones,
   * count one by one. An integer from 1 to 128; 128 counts each IPv6 address alone.
   * @default 56
   */
  ipv6Subnet?: number;
  /**
   * Rate-limit header fields on responses of limited routes: `'legacy'` (`X-RateLimit-*`),
   * `'ietf'` (`RateLimit-Policy` / `RateLimit`), `'both'`, or `false`. `Retry-After` is always
   * sent on 429 and 503.
   * @default 'legacy'
   */
  headers?: RateLimitHeadersMode;
  /**
   * A subclass of {@link RateLimitGuard} to register as the global guard instead of it (to
   * override `getTracker`, `onRejected`...). It is instantiated in this module's scope.
   */
  guard?: Type<RateLimitGuard>;
  /**
   * Registers `RateLimitInterceptor` as a global interceptor, which `@RateLimit` needs on
   * handlers that are not HTTP routes (GraphQL resolvers, WebSocket gateways, microservice
   * patterns). Off by default because any global interceptor sends every HTTP request through
   * Nest's interceptor pipeline, which costs more than the limiter itself; HTTP routes are
   * limited by the guard either way. While it is off, a `@RateLimit` that applies to a non-HTTP
   * handler fails the boot unless that handler or its class has
   * `@UseInterceptors(RateLimitInterceptor)`.
   * @default false
   */
  nonHttp?: boolean;
  /**
   * Exports every decision through `prom-client` and the OpenTelemetry metrics API. By default
   * each is on when its package is installed (`prom-client` into its default registry).
   */
  metrics?: MetricsExportOptions;
  /**
   * `false`: shadow mode for every limiter. Each decision is taken and counted as if enforced,
   * but the request or call always proceeds; would-be rejections are counted
   * (`shadow_rejected`) and logged, and no rate-limit header is sent. A limiter's own
   * `enforce = false` does the same for that limiter alone.
   * @default true
   */
  enforce?: boolean;
  /**
   * A structured log line per rejection of a `@RateLimit` (and per would-be rejection in shadow
   * mode) through Nest's `Logger` (context `RateSyncDecisions`): limiter, handler, retry delay
   * and a keyed hash of the identifier, never the identifier. `true` or `{ sampleRate,
   * maxPerSecond }`.
   * @default false
   */
  decisionLog?: boolean | DecisionLogOptions;
  /**
   * Limiters applied to every HTTP route that has no `@RateLimit` of its own (handler or
   * controller) and no `@SkipRateLimit()`, with `include` / `exclude` route patterns:
   * `{ limiters: 'api', exclude: ['/health', '/metrics'] }`. Decided once per route at
   * bootstrap; routes it does not cover cost what they cost without it. Non-HTTP handlers are
   * not covered. Default: none (only routes with `@RateLimit` are limited).
   */
  defaultLimit?: DefaultLimitOptions;
  /**
   * Lets a call through unlimited when it returns true (or a Promise of true): it consumes
   * nothing and gets no rate-limit header. Asked for every limited handler (HTTP routes, and
   * other handlers through `RateLimitInterceptor`), before the `@RateLimit`'s own `skip`. A
   * function that throws or rejects does not skip (the call is limited) and a warning is logged
   * once per handler.
   */
  skip?: SkipFunction;
  /**
   * The body of the 429 and 503 answers of the guard and of `RateLimitExceptionFilter`:
   * `'json'` (a `RateLimitExceededBody` / `RateLimitUnavailableBody`), `'problem'` (an RFC 9457
   * `application/problem+json` document naming the limiters), or a function building it. The
   * header fields are the same whatever the body.
   * @default 'json'
   */
  errorBody?: RefusalBodyOption;
  /**
   * What `X-RateLimit-Reset` holds: `'epoch'` (the epoch second at which the client is back to
   * its full limit) or `'delay'` (seconds until then, as `@nestjs/throttler` and
   * express-rate-limit's legacy headers send).
   * @default 'epoch'
   */
  resetHeader?: ResetHeaderMode;
  /** Time source of the memory engine and of waits; inject a `ManualClock` in tests. */
  clock?: Clock;
}

/** A class `forRootAsync({ useClass })` can use to build the options. */
export interface RateSyncOptionsFactory {
  /** The module options, computed when the module is created. */
  createRateSyncOptions(): RateSyncModuleOptions | Promise<RateSyncModuleOptions>;
}
