import { SERVER_NOW_LUA } from './server-now';

/**
 * The hot path: layers whose policy is a token bucket only (no window, no concurrency), by far
 * the most common decision. It is the acquire script (`acquire.script.ts`) specialised to that
 * case, with the same arithmetic in the same order (so bit-identical to the reference model,
 * which the reference suite checks). It decides and writes, but reports only what the
 * decision was made from: the instant and each decision's previous state. The engine derives
 * every reported field (wait, remaining, reset) from them with the reference model itself, so
 * both always agree. Number formatting costs Redis about 1 µs a number, as much as a command:
 * the script formats only the one value it stores.
 *
 * One call decides N independent decisions (the engine batches the decisions of one tick, see
 * `bucket-batch.ts`), one after another in plan order, each as if it were its own call: a key
 * named twice sees the first decision's write. Every decision shares one `now`. Each touched
 * key is written once, at the end, with the state of its last admission. Keys and policies
 * are sent once each, however many decisions name them (a hot key is the common batch).
 *
 * KEYS[k]    <prefix>:{<storageKey>}:t   GCRA theoretical arrival time (string, epoch ms); each
 *            key once
 * ARGV[1]    '' or `now` in epoch ms instead of the server's clock (TIME): tests only, and then
 *            the TTL is an hour, as in the acquire script
 * ARGV[2]    the plan: one "<k>:<s>" per decision, space-separated, in order: decide KEYS[k]
 *            with spec s
 * ARGV[2+s]  spec s, "<T> <burst> <cost> <maxWait> <dry>": emission interval in ms, burst,
 *            cost, max wait in ms ('inf' for no bound), and 1 for a dry run (decide, write
 *            nothing) else 0
 * Returns "<now>;<tat 1>;<tat 2>;...": `now` as TIME's "<seconds> <microseconds>" (or ARGV[1]),
 * then per decision, in plan order, the tat it was decided from ('' for no state), as stored.
 */
export const GCRA_LUA = `
${SERVER_NOW_LUA}
local now_s = clock and (clock[1] .. ' ' .. clock[2]) or ARGV[1]
-- per spec: its parsed fields; per key: tat and its string as read or last written
-- (false: no state)
local specs, tats, tat_strings, ttls = {}, {}, {}, {}
-- every key's stored tat in one command (KEYS are distinct); false where there is none
local stored_values = redis.call('MGET', unpack(KEYS))
local out, i = { now_s }, 1
for k_s, s_s in string.gmatch(ARGV[2], '(%d+):(%d+)') do
  i = i + 1
  local ki, si = tonumber(k_s), tonumber(s_s)
  local spec = specs[si]
  if not spec then
    local t_s, burst_s, cost_s, wait_bound_s, dry_s = string.match(ARGV[2 + si], '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
    local bound = math.huge
    if wait_bound_s ~= 'inf' then bound = tonumber(wait_bound_s) end
    spec = { tonumber(t_s), tonumber(burst_s), tonumber(cost_s), bound, dry_s == '1' }
    specs[si] = spec
  end
  local t, burst, cost, max_wait = spec[1], spec[2], spec[3], spec[4]
  local tat = tats[ki]
  if tat == nil then
    local raw = stored_values[ki]
    tat = raw and tonumber(raw) or false
    tats[ki] = tat
    tat_strings[ki] = tat and raw or ''
  end
  out[i] = tat_strings[ki]

  -- gcra() of algorithms/gcra.ts
  local base = math.max(tat or now, now)
  local wait = base + (cost - 1) * t - (burst - 1) * t - now
  if (wait <= 0 or wait <= max_wait) and not spec[5] then
    local stored = base + cost * t
    tats[ki] = stored
    tat_strings[ki] = string.format('%.17g', stored)
    ttls[ki] = math.max(1, math.ceil(stored - now))
  end
end
for ki, ttl in pairs(ttls) do
  if ARGV[1] ~= '' then ttl = 3600000 end -- a test clock: see the acquire script
  redis.call('SET', KEYS[ki], tat_strings[ki], 'PX', ttl)
end
return table.concat(out, ';')
`;
