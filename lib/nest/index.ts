export { RateSyncModule } from './rate-sync.module';
export type { RateSyncRootOptions, RateSyncAsyncOptions } from './rate-sync.module-definition';
export type {
  RateSyncModuleOptions,
  RateSyncOptionsFactory,
} from './rate-sync-module-options.interface';
export type { RateSyncSettings } from './rate-sync-settings';
export {
  RATE_LIMIT_METADATA,
  RATE_SYNC_MODULE_OPTIONS,
  RATE_SYNC_SETTINGS,
} from './rate-sync.constants';
export { LimiterService, type StoreHealth } from './limiter.service';
export type { DecisionLogEntry, DecisionLogOptions } from './decision-log';
export {
  RateSyncHealthIndicator,
  type RateSyncHealthOptions,
  type RateSyncHealthResult,
} from './health/rate-sync.health-indicator';
export { RateLimit } from './decorators/rate-limit.decorator';
export { SkipRateLimit } from './decorators/skip-rate-limit.decorator';
export type {
  CostFunction,
  HandlerOutcome,
  KeyFunction,
  KeySpec,
  RateLimitDeclaration,
  RateLimitMetadata,
  RateLimitMode,
  RateLimitOptions,
  RateLimitTiers,
  SkipRateLimitDeclaration,
  TierFunction,
} from './decorators/rate-limit-options.interface';
export { RateLimitGuard } from './rate-limit.guard';
export { RateLimitInterceptor } from './rate-limit.interceptor';
export {
  RateSyncTestingModule,
  type RateSyncTestingOptions,
} from './testing/rate-sync-testing.module';
export { RateSyncTesting } from './testing/rate-sync-testing';
export { RateLimitMetadataAccessor } from './rate-limit-metadata.accessor';
export { RateLimitRegistry } from './limits/rate-limit.registry';
export type { CompiledLimit, LimitOutcome } from './limits/compiled-limit';
export type { KeySource, RequestLike } from './keys/key-source';
export { MISSING_FIELD_PLACEHOLDER } from './keys/key-template';
export { METHOD_CONTEXT_TYPE } from './explorer/method-execution-context';
export {
  RateLimitExceededException,
  type RateLimitExceededBody,
} from './http/rate-limit-exceeded.exception';
export {
  RateLimitUnavailableException,
  type RateLimitUnavailableBody,
} from './http/rate-limit-unavailable.exception';
export {
  RateLimitExceptionFilter,
  type RateLimitRefusal,
} from './http/rate-limit-exception.filter';
export type { RateLimitRejection } from './transports/rate-limit-rejection';
export type { RateLimitHeadersMode, ResetHeaderMode } from './http/rate-limit-headers';
export type {
  RateLimitProblemDetails,
  RateLimitRefusalInfo,
  RefusalBodyFactory,
  RefusalBodyOption,
} from './http/refusal-body';
export type { SkipFunction } from './limits/skip-rule';
export type { DefaultLimitOptions } from './routes/default-limit';
export { clientIp, requestClientIp } from './http/client-ip';
export { TrustedProxies } from './http/trusted-proxies';
