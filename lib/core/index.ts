export * from './errors';
export * from './options';
export type { RateLimitResult, CompositeResult, LimiterState } from './result';
export { type Clock, systemClock, ManualClock } from './clock';
export { Permit } from './permit';
export { type RateSyncLogger, consoleLogger } from './logger';
export {
  RateSync,
  type AcquireOptions,
  type CheckAllOptions,
  type PlanOutcome,
  type RateSyncRuntimeOptions,
} from './rate-sync';
export type { AcquisitionPlan, CallKind, PlanOptions } from './acquisition-plan';
export type { StoreHealth } from './store-probe';
export type { DegradedState } from './degraded-mode';
export { Limiter } from './limiter';
export type { LimiterInfo } from './limiter-info';
export type { CompositeStrategy } from './composite';
export {
  type LimiterMetrics,
  toPrometheus,
  exportMetrics,
  type MetricsExportOptions,
  type DecisionOutcome,
} from './metrics';
export { storageKey, escapeKeyPart } from './keys';
