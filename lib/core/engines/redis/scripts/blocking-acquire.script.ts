import { ACQUIRE_LUA } from './acquire.script';
import { SERVER_NOW_LUA } from './server-now';

/**
 * The decision script for calls where a layer has `block_seconds`: the acquire script
 * (`acquire.script.ts`, run unchanged inside it), plus the blocks, in the same atomic call.
 * It mirrors the memory engine's `blockedLayers` and `decideLayer`'s `blockUntil`.
 *
 * KEYS: the acquire script's three per layer, then one more per layer i, at 3 * n + i:
 *   <prefix>:{<storageKey>}:b   blocked until: a string, epoch ms, with a TTL
 * ARGV: the acquire script's, then one more per layer i, at 3 + 10 * n + i:
 *   the block length in ms, or '' (the layer has no `block_seconds`)
 * 1. When a layer's key is blocked (blocked until > now), every layer is decided as a dry run
 *    (nothing consumed, each reports the state as it is) and each blocked layer is rejected:
 *    retry after the block's end, remaining 0, reset at least the block's end.
 * 2. Otherwise the acquire script decides; unless the call is a dry run, each layer with a
 *    block that it rejected for the rate blocks its key for the block length from now, and its
 *    retry delay and reset say so. A block is never extended while it lasts.
 * Returns the acquire script's reply.
 */
export const BLOCKING_ACQUIRE_LUA = `
local layers = #KEYS / 4
local base_args = 3 + 10 * layers
local bkeys, bms, until_at = {}, {}, {}
for i = 1, layers do
  bkeys[i] = KEYS[3 * layers + i]
  bms[i] = ARGV[base_args + i]
end
local function fmt(x)
  if x == math.huge then return 'inf' end
  return string.format('%.17g', x)
end
local function num(s)
  if s == 'inf' then return math.huge end
  return tonumber(s)
end
${SERVER_NOW_LUA}
local any_blocked = false
for i = 1, layers do
  if bms[i] ~= '' then
    local u = redis.call('GET', bkeys[i])
    if u and tonumber(u) > now then
      until_at[i] = tonumber(u)
      any_blocked = true
    end
  end
end
local was_dry = ARGV[2] == '1'
if any_blocked then
  ARGV[2] = '1'
  for i = 1, layers do ARGV[3 + 10 * (i - 1) + 10] = '1' end
end
local decide = function(KEYS)
${ACQUIRE_LUA}
end
local out = decide({ unpack(KEYS, 1, 3 * layers) })
for i = 1, layers do
  local o = out[i]
  if until_at[i] then
    o[1], o[2], o[3], o[4] = '0', '0', fmt(until_at[i] - now), '0'
    o[5] = fmt(math.max(num(o[5]), until_at[i]))
    o[7], o[9] = 'rate', ''
  elseif not any_blocked and not was_dry and bms[i] ~= '' and o[7] == 'rate' then
    local ms = tonumber(bms[i])
    local u = now + ms
    local ttl = math.max(1, math.ceil(ms))
    if ARGV[1] ~= '' then ttl = 3600000 end
    redis.call('SET', bkeys[i], fmt(u), 'PX', ttl)
    o[3] = fmt(math.max(num(o[3]), ms))
    o[5] = fmt(math.max(num(o[5]), u))
  end
end
return out
`;
