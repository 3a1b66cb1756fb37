import { SERVER_NOW_LUA } from './server-now';

/**
 * The fleet's heartbeats (degraded mode, docs/engines/redis.md): one ZSET per store whose
 * members are the process instances and whose scores are their expiries (server clock). The
 * key itself expires with the last heartbeat, so a store whose processes all stopped keeps
 * nothing.
 *
 * KEYS[1]  <prefix>:fleet   the heartbeat ZSET (member = instance id, score = expiry ms)
 * ARGV[1]  `now` in epoch ms, or '' to read the server's clock (TIME)
 * ARGV[2]  the heartbeat's lifetime in ms
 * ARGV[3]  this instance's id
 * Returns the number of live instances, this one included.
 */
export const HEARTBEAT_LUA = `
${SERVER_NOW_LUA}
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now))
redis.call('ZADD', KEYS[1], string.format('%.17g', now + ttl), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl))
return redis.call('ZCARD', KEYS[1])
`;

/**
 * Removes one instance's heartbeat (a graceful exit: the fleet shrinks at once).
 *
 * KEYS[1]  <prefix>:fleet
 * ARGV[1]  the instance id
 */
export const LEAVE_FLEET_LUA = `return redis.call('ZREM', KEYS[1], ARGV[1])`;
