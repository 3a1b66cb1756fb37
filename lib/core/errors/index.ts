export { RateSyncError } from './rate-sync.error';
export {
  ConfigValidationError,
  formatConfigProblem,
  type ConfigProblem,
} from './config-validation.error';
export { LimiterNotFoundError } from './limiter-not-found.error';
export { StoreNotFoundError } from './store-not-found.error';
export { RateLimitExceededError } from './rate-limit-exceeded.error';
export { StoreUnavailableError } from './store-unavailable.error';
export { MissingDriverError } from './missing-driver.error';
export { InvalidArgumentError } from './invalid-argument.error';
export { StoreSetupError } from './store-setup.error';
