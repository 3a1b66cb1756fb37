/**
 * @rate-sync/nestjs: distributed rate limiting and concurrency limiting for NestJS.
 *
 * The public API, named export by export. Every name here is a promise to users: the committed
 * API report (`etc/rate-sync-nestjs.api.md`, checked by `npm run api`) makes each change to it
 * a visible decision. Runtime machinery (the registry, compiled limits, the limiter class,
 * storage keys, injection tokens) stays internal.
 *
 * @packageDocumentation
 */

// --- the module and its options ---
export {
  RateSyncModule,
  type RateSyncRootOptions,
  type RateSyncAsyncOptions,
  type RateSyncModuleOptions,
  type RateSyncOptionsFactory,
  type DecisionLogOptions,
  type DecisionLogEntry,
} from './nest';
export { type MetricsExportOptions } from './core';

// --- the programmatic API and the types of its signatures ---
export { LimiterService, type StoreHealth } from './nest';

// --- health for @nestjs/terminus ---
export {
  RateSyncHealthIndicator,
  type RateSyncHealthOptions,
  type RateSyncHealthResult,
} from './nest';
export {
  Permit,
  type AcquireOptions,
  type CheckAllOptions,
  type RateLimitResult,
  type CompositeResult,
  type CompositeStrategy,
  type LimiterState,
  type LimiterInfo,
  type LimiterMetrics,
} from './core';

// --- decorators ---
export {
  RateLimit,
  SkipRateLimit,
  type RateLimitOptions,
  type RateLimitMode,
  type HandlerOutcome,
  type KeySpec,
  type KeyFunction,
  type RateLimitTiers,
  type TierFunction,
  type CostFunction,
  type RateLimitDeclaration,
  type SkipFunction,
  type DefaultLimitOptions,
} from './nest';

// --- HTTP: the guard, the interceptor for other transports, headers and exceptions ---
export {
  RateLimitGuard,
  RateLimitInterceptor,
  type RequestLike,
  type RateLimitHeadersMode,
  type ResetHeaderMode,
  type RefusalBodyOption,
  type RefusalBodyFactory,
  type RateLimitRefusalInfo,
  type RateLimitProblemDetails,
  RateLimitExceededException,
  type RateLimitExceededBody,
  RateLimitUnavailableException,
  type RateLimitUnavailableBody,
  RateLimitExceptionFilter,
  type RateLimitRefusal,
  type RateLimitRejection,
} from './nest';

// --- errors ---
export {
  RateSyncError,
  ConfigValidationError,
  type ConfigProblem,
  LimiterNotFoundError,
  StoreNotFoundError,
  RateLimitExceededError,
  StoreUnavailableError,
  StoreSetupError,
  MissingDriverError,
  InvalidArgumentError,
} from './core';

// --- configuration ---
export {
  type EngineName,
  type AlgorithmName,
  type StoreOptions,
  type LimiterOptions,
  type StoreFailurePolicy,
  type RateSyncConfig,
  type DegradedState,
} from './core';
export {
  loadConfig,
  type LoadConfigOptions,
  type ValidatedConfig,
  type ConfigSource,
} from './core/config';

// --- tests: a manual clock, and the module on memory stores ---
export { type Clock, ManualClock } from './core';
export { RateSyncTestingModule, type RateSyncTestingOptions, RateSyncTesting } from './nest';
