import { SERVER_NOW_LUA } from './server-now';

/**
 * Lease scripts: release, renewal and key reset (DESIGN 3.2). Each is one atomic call on the
 * keys of one layer, which share a hash tag and so a cluster slot.
 */

/**
 * Deletes one lease and, when it existed, wakes the waiters of the key. Idempotent: an unknown
 * (already released or expired and pruned) lease is a no-op that publishes nothing.
 *
 * KEYS[1]  <prefix>:{<storageKey>}:c   the lease ZSET (member = lease id, score = expiry ms)
 * ARGV[1]  the lease id
 * ARGV[2]  the release channel of the key, <prefix>:{<storageKey>}:r
 * Returns 1 when a lease was deleted, else 0.
 */
export const RELEASE_LUA = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed > 0 then redis.call('PUBLISH', ARGV[2], '1') end
return removed
`;

/**
 * Extends live leases to now + lease length. A lease that has already expired is not revived:
 * its slot may have been taken by someone else since, and reviving it would over-admit.
 *
 * KEYS[1]  <prefix>:{<storageKey>}:c   the lease ZSET
 * ARGV[1]  `now` in epoch ms, or '' to read the server's clock (TIME). Only tests pass a value
 *          (and then the TTL is an hour, as in the acquire script).
 * ARGV[2]  lease length in ms
 * ARGV[3..] the lease ids to renew
 * Returns the number of leases renewed.
 */
export const RENEW_LUA = `
${SERVER_NOW_LUA}
local expiry = now + tonumber(ARGV[2])
local score = string.format('%.17g', expiry)
local renewed = 0
for i = 3, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) > now then
    redis.call('ZADD', KEYS[1], score, ARGV[i])
    renewed = renewed + 1
  end
end
if renewed > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local ttl = math.max(1, math.ceil(tonumber(last[2]) - now))
  if ARGV[1] ~= '' then ttl = 3600000 end -- a test clock: see the acquire script
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return renewed
`;

/**
 * Deletes every piece of state of one key and wakes its waiters when it held leases.
 *
 * KEYS[1..4]  the key's GCRA, window and lease keys (see the acquire script), and its block
 *             key (see the blocking acquire script)
 * ARGV[1]     the release channel of the key
 * Returns the number of keys deleted.
 */
export const RESET_KEY_LUA = `
local had_leases = redis.call('EXISTS', KEYS[3])
local n = redis.call('DEL', unpack(KEYS))
if had_leases > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return n
`;

/**
 * Takes back what one committed acquire call wrote. Used only for a composite acquisition
 * whose layers span several Redis Cluster slots, when a later slot rejects: the slots that
 * already committed are undone. KEYS and ARGV are exactly those of the acquire call to undo.
 * The GCRA arrival time moves back by cost * T (exact when no other caller came in between,
 * and otherwise as if this caller had not been first), the window entries named by the call's
 * token are removed, and the lease is deleted (waking waiters).
 */
export const UNDO_LUA = `
local token = ARGV[3]
local layers = #KEYS / 3
for i = 1, layers do
  local a = 3 + 10 * (i - 1)
  local k = 3 * (i - 1)
  local cost = tonumber(ARGV[a + 7])
  if ARGV[a + 1] ~= '' then
    local raw = redis.call('GET', KEYS[k + 1])
    if raw then
      local back = tonumber(raw) - cost * tonumber(ARGV[a + 1])
      redis.call('SET', KEYS[k + 1], string.format('%.17g', back), 'KEEPTTL')
    end
  end
  if ARGV[a + 3] ~= '' then
    local wk = KEYS[k + 2]
    if redis.call('ZREM', wk, token .. ':' .. i .. '*' .. cost) > 0 and redis.call('ZSCORE', wk, '#') then
      redis.call('ZINCRBY', wk, cost, '#') -- the total weight, held as -(total) - 1
    end
  end
  if ARGV[a + 5] ~= '' and ARGV[a + 9] ~= '' then
    if redis.call('ZREM', KEYS[k + 3], ARGV[a + 9]) > 0 then
      -- The release channel is the lease key with its 'c' suffix replaced by 'r'.
      redis.call('PUBLISH', string.sub(KEYS[k + 3], 1, -2) .. 'r', '1')
    end
  end
end
return layers
`;
