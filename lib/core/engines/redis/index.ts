export { RedisEngine } from './redis.engine';
export { DEFAULT_KEY_PREFIX, MAX_KEY_OVERHEAD, layerKeys, type LayerKeys } from './redis-keys';
