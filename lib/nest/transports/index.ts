export {
  RATE_LIMITED,
  RATE_LIMIT_UNAVAILABLE,
  type RateLimitRejection,
} from './rate-limit-rejection';
