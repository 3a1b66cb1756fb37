import { SERVER_NOW_LUA } from './server-now';

/**
 * The hot path: layers whose policy is a token bucket only (no window, no concurrency), by far
 * the most common decision. These scripts are the acquire script (`acquire.script.ts`)
 * specialised to that case, with the same arithmetic in the same order (so bit-identical to
 * the reference model, which the reference suite checks). They decide and write, but report
 * only what the decision was made from: the instant and each decision's previous state. The
 * engine derives every reported field (wait, remaining, reset) from them with the reference
 * model itself, so both always agree. Number formatting costs Redis about 1 µs a number, as
 * much as a command: the scripts format only the one value they store.
 *
 * Two scripts share the spec format, the decision and the reply:
 * - {@link GCRA_ONE_LUA} decides one request (a lone call, every call at one in flight). It
 *   builds no tables and parses no plan: about a quarter less Redis time than the batch script
 *   with one decision (measured with INFO commandstats, see docs/performance.md).
 * - {@link GCRA_LUA} decides the token-bucket requests of one tick (see `bucket-batch.ts`).
 *
 * A spec is "<T> <burst> <cost> <maxWait> <dry>": emission interval in ms, burst, cost, max
 * wait in ms ('inf' for no bound), and 1 for a dry run (decide, write nothing) else 0.
 * The reply is "<now>;<tat 1>;<tat 2>;...": `now` as TIME's "<seconds> <microseconds>" (or
 * ARGV[1] under a test clock), then per decision, in order, the tat it was decided from ('' for
 * no state), as stored.
 */

/** Sets `t, burst, cost, max_wait, dry` from the spec string `src`. */
const parseSpec = (src: string): string => `
local t_s, burst_s, cost_s, wait_bound_s, dry_s = string.match(${src}, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
local t, burst, cost, max_wait = tonumber(t_s), tonumber(burst_s), tonumber(cost_s), math.huge
if wait_bound_s ~= 'inf' then max_wait = tonumber(wait_bound_s) end
local dry = dry_s == '1'`;

/**
 * gcra() of algorithms/gcra.ts for the previous tat `tat` (false: no state) at `now`: sets
 * `stored`, the tat to write, when the request is admitted and not a dry run, else leaves it nil.
 */
const DECIDE = `
local stored
local base = math.max(tat or now, now)
local wait = base + (cost - 1) * t - (burst - 1) * t - now
if (wait <= 0 or wait <= max_wait) and not dry then stored = base + cost * t end`;

/** The key's time to live for the tat `stored`: an hour under a test clock (see the acquire script). */
const TTL = `(ARGV[1] ~= '' and 3600000 or math.max(1, math.ceil(stored - now)))`;

/** The reply's opening: the instant the decisions were made at. */
const NOW_REPLY = `(clock and (clock[1] .. ' ' .. clock[2]) or ARGV[1])`;

/**
 * One decision.
 * KEYS[1]  <prefix>:{<storageKey>}:t   GCRA theoretical arrival time (string, epoch ms)
 * ARGV[1]  '' or `now` in epoch ms instead of the server's clock (TIME): tests only
 * ARGV[2]  the spec
 * Returns "<now>;<tat>".
 */
export const GCRA_ONE_LUA = `
${SERVER_NOW_LUA}
${parseSpec('ARGV[2]')}
local raw = redis.call('GET', KEYS[1])
local tat = raw and tonumber(raw) or false
${DECIDE}
if stored then
  redis.call('SET', KEYS[1], string.format('%.17g', stored), 'PX', ${TTL})
end
return ${NOW_REPLY} .. ';' .. (tat and raw or '')
`;

/**
 * N independent decisions, one after another in plan order, each as if it were its own call:
 * a key named twice sees the first decision's write. Every decision shares one `now`. Each
 * touched key is written once, at the end, with the state of its last admission. Keys and
 * specs are sent once each, however many decisions name them (a hot key is the common batch).
 *
 * KEYS[k]    <prefix>:{<storageKey>}:t   GCRA theoretical arrival time; each key once
 * ARGV[1]    '' or `now` in epoch ms instead of the server's clock (TIME): tests only
 * ARGV[2]    the plan: one "<k>:<s>" per decision, space-separated, in order: decide KEYS[k]
 *            with spec s
 * ARGV[2+s]  spec s
 * Returns "<now>;<tat 1>;<tat 2>;...".
 */
export const GCRA_LUA = `
${SERVER_NOW_LUA}
-- per spec: a function setting its fields; per key: tat and its string as read or last
-- written (false: no state), and its time to live when written
local specs, tats, tat_strings, ttls = {}, {}, {}, {}
-- every key's stored tat in one command (KEYS are distinct); false where there is none
local stored_values = redis.call('MGET', unpack(KEYS))
local out, i = { ${NOW_REPLY} }, 1
for k_s, s_s in string.gmatch(ARGV[2], '(%d+):(%d+)') do
  i = i + 1
  local ki, si = tonumber(k_s), tonumber(s_s)
  local spec = specs[si]
  if not spec then
    ${parseSpec('ARGV[2 + si]')}
    spec = { t, burst, cost, max_wait, dry }
    specs[si] = spec
  end
  local t, burst, cost, max_wait, dry = spec[1], spec[2], spec[3], spec[4], spec[5]
  local tat = tats[ki]
  if tat == nil then
    local raw = stored_values[ki]
    tat = raw and tonumber(raw) or false
    tats[ki] = tat
    tat_strings[ki] = tat and raw or ''
  end
  out[i] = tat_strings[ki]
  ${DECIDE}
  if stored then
    tats[ki] = stored
    tat_strings[ki] = string.format('%.17g', stored)
    ttls[ki] = ${TTL}
  end
end
for ki, ttl in pairs(ttls) do
  redis.call('SET', KEYS[ki], tat_strings[ki], 'PX', ttl)
end
return table.concat(out, ';')
`;
