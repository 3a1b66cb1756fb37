/**
 * The hot path: one layer whose policy is a token bucket only (no window, no concurrency),
 * by far the most common decision. It is the acquire script (`acquire.script.ts`) specialised
 * to that case, with the same arithmetic in the same order (so bit-identical to the reference
 * model, which the reference suite checks), but one key, one packed argument and one string
 * back: every argument and reply element costs the client (ioredis) as much as the server
 * costs to run the script, so the hot path keeps both to a minimum.
 *
 * KEYS[1]  <prefix>:{<storageKey>}:t   GCRA theoretical arrival time (string, epoch ms)
 * ARGV[1]  "<T> <burst> <cost> <maxWait> <dry>": emission interval in ms, burst, cost, max
 *          wait in ms ('inf' for no bound), and 1 for a dry run (decide, write nothing, report
 *          the state as it is) else 0
 * ARGV[2]  absent, or `now` in epoch ms instead of the server's clock (TIME): tests only, and
 *          then the TTL is an hour, as in the acquire script
 * Returns "<allowed> <wait> <remaining> <resetAt>": allowed 1 or 0; wait is waitMs when
 * allowed, retryAfterMs when rejected (the other is 0); numbers as `%.17g`.
 */
export const GCRA_LUA = `
local now
if ARGV[2] then
  now = tonumber(ARGV[2])
else
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
end
local t_s, burst_s, cost_s, wait_bound_s, dry = string.match(ARGV[1], '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
local t, burst, cost = tonumber(t_s), tonumber(burst_s), tonumber(cost_s)
local max_wait = math.huge
if wait_bound_s ~= 'inf' then max_wait = tonumber(wait_bound_s) end
local raw = redis.call('GET', KEYS[1])
local tat = nil
if raw then tat = tonumber(raw) end

-- gcra() of algorithms/gcra.ts
local tau = (burst - 1) * t
local base = math.max(tat or now, now)
local wait = base + (cost - 1) * t - tau - now
local allowed = wait <= 0 or wait <= max_wait
-- The common case formats one number, written and returned as the same string.
if allowed and dry ~= '1' then
  local stored = base + cost * t
  local stored_s = string.format('%.17g', stored)
  local ttl = math.max(1, math.ceil(stored - now))
  if ARGV[2] then ttl = 3600000 end -- a test clock: see the acquire script
  redis.call('SET', KEYS[1], stored_s, 'PX', ttl)
  -- gcraRemaining(stored, now)
  local free = math.floor((now + burst * t - math.max(stored, now)) / t + 1e-9)
  local wait_s = '0'
  if wait > 0 then wait_s = string.format('%.17g', wait) end
  return '1 ' .. wait_s .. ' ' .. string.format('%.17g', math.min(burst, math.max(0, free))) .. ' ' .. stored_s
end
-- Not consumed (rejected, or a dry run): the state as it is, gcraRemaining(tat or now, now).
local free = math.floor((now + burst * t - math.max(tat or now, now)) / t + 1e-9)
local remaining = math.min(burst, math.max(0, free))
local wait_s = '0'
if wait > 0 then wait_s = string.format('%.17g', wait) end
return (allowed and '1 ' or '0 ') .. wait_s .. ' ' .. string.format('%.17g', remaining) .. ' ' ..
  string.format('%.17g', base)
`;
