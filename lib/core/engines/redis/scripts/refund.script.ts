import { SERVER_NOW_LUA } from './server-now';

/**
 * The refund script: gives back what one admitted layer took, in one atomic call on the keys
 * of that layer (one hash tag, so one cluster slot). It mirrors `gcraRefund` and
 * `windowRefund` of `lib/core/algorithms/refund.ts`.
 *
 * KEYS:
 *   1  <prefix>:{<storageKey>}:t  GCRA theoretical arrival time (see acquire.script.ts)
 *   2  <prefix>:{<storageKey>}:w  sliding window log (see acquire.script.ts)
 * ARGV:
 *   1  `now` in epoch ms, or '' to read the server's clock (TIME). Only tests pass a value
 *      (and then the TTL is an hour, as in the acquire script).
 *   2  GCRA emission interval T in ms, or '' (no token bucket)
 *   3  the cost the layer was admitted with
 *   4  the time of the window entry the admission recorded (`%.17g` or shortest round-trip
 *      decimal, so the exact double), or '' (no sliding window)
 * Token bucket: tat = max(tat - cost * T, now); a tat at or before now is a full bucket, which
 * an absent key also is, so the key is deleted then. Window: the first member scored exactly
 * the entry's time whose weight is `cost` is removed, and the total weight kept in '#' with it.
 * Nothing happens to a key without state (expired, reset). Returns nothing.
 */
export const REFUND_LUA = `
${SERVER_NOW_LUA}
local cost = tonumber(ARGV[3])
if ARGV[2] ~= '' then
  local raw = redis.call('GET', KEYS[1])
  if raw then
    local tat = math.max(tonumber(raw) - cost * tonumber(ARGV[2]), now)
    if tat <= now then
      redis.call('DEL', KEYS[1])
    else
      local ttl = math.max(1, math.ceil(tat - now))
      if ARGV[1] ~= '' then ttl = 3600000 end
      redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', ttl)
    end
  end
end
if ARGV[4] ~= '' then
  local members = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[4], ARGV[4])
  for j = 1, #members do
    local m = members[j]
    local w = string.match(m, '%*(%d+)$')
    w = w and tonumber(w) or 1
    if m ~= '#' and w == cost then
      redis.call('ZREM', KEYS[2], m)
      local s = redis.call('ZSCORE', KEYS[2], '#')
      -- '#' holds -(total weight) - 1: the total less this entry's weight.
      if s then redis.call('ZADD', KEYS[2], string.format('%.17g', tonumber(s) + cost), '#') end
      break
    end
  end
end
return 0
`;
