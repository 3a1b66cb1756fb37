import { SERVER_NOW_LUA } from './server-now';

/**
 * The decision script: decides N layers all-or-nothing in one atomic call (DESIGN 3.1 to 3.6).
 *
 * It mirrors `decideLayer()` of `lib/core/algorithms/decide.ts` operation for operation, in
 * the same order, so that the same state and the same `now` give bit-identical doubles (Lua
 * numbers and JS numbers are both IEEE 754 doubles; +, -, *, / and floor round the same way).
 * Numbers travel as `%.17g` strings, which round-trip a double exactly. Every write sets a TTL.
 *
 * KEYS, three per layer i (1-based), at 3*(i-1) + 1..3, all in the hash tag of the layer:
 *   +1  <prefix>:{<storageKey>}:t  GCRA theoretical arrival time: a string, epoch ms
 *   +2  <prefix>:{<storageKey>}:w  sliding window log: ZSET, one member per admission, score =
 *                                  its epoch ms (future-dated for reservations), member =
 *                                  <token>:<i>*<cost>, the weight after '*' (a member without
 *                                  '*', as written before weights, weighs 1); plus the member
 *                                  '#' scored -(total weight of the entries) - 1, below every
 *                                  time, so that a decision reads the total in O(1) instead of
 *                                  summing the log
 *   +3  <prefix>:{<storageKey>}:c  concurrency leases: ZSET, member = lease id, score = expiry ms
 * ARGV:
 *   1  `now` in epoch ms, or '' to read the server's clock (TIME). Only tests pass a value
 *      (and then every TTL is an hour: Redis expires keys on its own, real, clock).
 *   2  '1' when any layer is a dry run: write nothing; '0': commit when all layers allow
 *   3  a token unique to this call, naming the window entries it records
 *   then ten per layer i, at 3 + 10*(i-1) + 1..10 ('' marks an absent policy part):
 *   +1  GCRA emission interval T in ms, or ''
 *   +2  GCRA burst
 *   +3  sliding window limit, or ''
 *   +4  sliding window length in ms
 *   +5  max concurrent, or ''
 *   +6  lease length in ms
 *   +7  cost (>= 1)
 *   +8  max wait in ms, 'inf' for no bound
 *   +9  lease id to create on admission, or ''
 *   +10 '1' when this layer is a dry run (then ARGV[2] is '1' too)
 * Returns one array per layer: { allowed ('1' or '0'), waitMs, retryAfterMs, remaining,
 * resetAt, inFlight (or ''), blockedBy ('rate', 'concurrency' or ''), now, entryAt (the time of
 * the window entry recorded, or '') }. When the call writes nothing (a dry run, a rejection),
 * every layer reports the state as it is.
 */
export const ACQUIRE_LUA = `
local function num(s)
  if s == 'inf' then return math.huge end
  return tonumber(s)
end
local function fmt(x)
  if x == math.huge then return 'inf' end
  return string.format('%.17g', x)
end
-- gcraRemaining(): acquisitions of cost 1 admissible now given tat (EPSILON = 1e-9).
local function gcra_remaining(tat, now, t, burst)
  local free = math.floor((now + burst * t - math.max(tat, now)) / t + 1e-9)
  return math.min(burst, math.max(0, free))
end
-- The weight of a window member: the cost after '*', else 1.
local function weight(member)
  local w = string.match(member, '%*(%d+)$')
  return w and tonumber(w) or 1
end
local function weight_of(members)
  local n = 0
  for j = 1, #members do n = n + weight(members[j]) end
  return n
end
-- The total weight of a window log, expired entries included: the score of '#', or for a log
-- written before weights (no '#'), the sum over its members (each weighing 1).
local function window_total(wk)
  local s = redis.call('ZSCORE', wk, '#')
  if s then return -tonumber(s) - 1 end
  return weight_of(redis.call('ZRANGEBYSCORE', wk, 0, '+inf'))
end
-- PEXPIRE needs a positive integer of milliseconds. Under a test clock (ARGV[1] set) keys live
-- an hour instead: Redis expires keys on its real clock, which a simulated one would outrun.
local function ttl(ms)
  if ARGV[1] ~= '' then return 3600000 end
  return math.max(1, math.ceil(ms))
end

${SERVER_NOW_LUA}
local dry = ARGV[2] == '1'
local token = ARGV[3]
local layers = #KEYS / 3
local out, plans = {}, {}
local all_allowed = true

for i = 1, layers do
  local a = 3 + 10 * (i - 1)
  local k = 3 * (i - 1)
  local t, burst = num(ARGV[a + 1]), num(ARGV[a + 2])
  local limit, window_ms = num(ARGV[a + 3]), num(ARGV[a + 4])
  local cmax, lease_ms = num(ARGV[a + 5]), num(ARGV[a + 6])
  local cost, max_wait = num(ARGV[a + 7]), num(ARGV[a + 8])

  -- Concurrency (concurrency() of algorithms/concurrency.ts): live leases expire after now.
  local conc_ok, active, conc_retry, conc_reset = true, nil, 0, now
  if cmax then
    local live = '(' .. fmt(now)
    active = redis.call('ZCOUNT', KEYS[k + 3], live, '+inf')
    conc_ok = active < cmax
    if not conc_ok then
      local first = redis.call('ZRANGEBYSCORE', KEYS[k + 3], live, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      conc_retry = first[2] and (tonumber(first[2]) - now) or math.huge
    end
    if active > 0 then
      local last = redis.call('ZRANGE', KEYS[k + 3], -1, -1, 'WITHSCORES')
      conc_reset = math.max(now, tonumber(last[2]))
    end
  end
  -- A full concurrency part forbids waiting for the rate part (and consumes nothing).
  local wait_bound = max_wait
  if cmax and not conc_ok then wait_bound = -1 end

  -- GCRA (gcra() of algorithms/gcra.ts).
  local g, w, tat = nil, nil, nil
  if t then
    local raw = redis.call('GET', KEYS[k + 1])
    if raw then tat = tonumber(raw) end
    local tau = (burst - 1) * t
    local base = math.max(tat or now, now)
    local wait = base + (cost - 1) * t - tau - now
    local ok = wait <= 0 or wait <= wait_bound
    local stored = base
    if ok then stored = base + cost * t end
    g = { ok = ok, wait = ok and math.max(0, wait) or 0, retry = ok and 0 or wait,
          tat = stored, remaining = gcra_remaining(stored, now, t, burst), reset = stored }
  end

  -- Sliding window (slidingWindow() of algorithms/sliding-window.ts).
  -- live_n is the total weight of the live entries (newer than now - window): the log's total
  -- less the expired entries not yet pruned (pruning happens on admissions, so they are few).
  local live_n, cutoff, last_live, total, expired = 0, 0, nil, 0, 0
  if limit then
    cutoff = now - window_ms
    local wk = KEYS[k + 2]
    total = window_total(wk)
    expired = weight_of(redis.call('ZRANGEBYSCORE', wk, 0, fmt(cutoff)))
    live_n = total - expired
    if live_n > 0 then
      last_live = tonumber(redis.call('ZRANGE', wk, -1, -1, 'WITHSCORES')[2])
    end
    local at, ok, retry = now, true, 0
    if live_n + cost > limit then
      -- The earliest live entry by which the weight reaches n - limit + cost, plus the window.
      -- Every entry weighs at least 1, so it is among the first n - limit + cost live ones.
      local need, sum = live_n - limit + cost, 0
      local first = redis.call('ZRANGEBYSCORE', wk, '(' .. fmt(cutoff), '+inf', 'WITHSCORES', 'LIMIT', 0, need)
      at = math.huge
      for j = 1, #first, 2 do
        sum = sum + weight(first[j])
        if sum >= need then
          at = tonumber(first[j + 1]) + window_ms
          break
        end
      end
      local wait = at - now
      if wait > wait_bound then ok, retry = false, wait end
    end
    if ok then
      local last = at
      if last_live and last_live > at then last = last_live end
      w = { ok = true, wait = at - now, retry = 0, at = at,
            remaining = math.max(0, limit - (live_n + cost)), reset = last + window_ms }
    else
      w = { ok = false, wait = 0, retry = retry,
            remaining = math.max(0, limit - live_n), reset = last_live and (last_live + window_ms) or now }
    end
  end

  -- Combination (decideLayer()): the token bucket, else the window, is the rate part. A dry
  -- run or a rejection reports the state as it is (nothing consumed), and so does a layer
  -- that would pass when another rejects: reply(consumed) is called once all are decided.
  local rate = g or w
  local rate_ok = conc_ok and (rate == nil or rate.ok)
  local allowed = conc_ok and rate_ok
  local blocked = ''
  if not conc_ok then blocked = 'concurrency' elseif not rate_ok then blocked = 'rate' end
  local lease_expiry = 0
  if cmax then lease_expiry = now + lease_ms end
  local wait_ms, retry_ms = 0, 0
  if allowed and rate then wait_ms = rate.wait end
  if not conc_ok then retry_ms = conc_retry elseif not rate_ok then retry_ms = rate.retry end
  local function reply(consumed)
    local in_flight = active
    if active and consumed then in_flight = active + 1 end
    local conc_remaining = math.huge
    if cmax then conc_remaining = cmax - in_flight end
    local rate_remaining = math.huge
    if rate then
      if consumed then rate_remaining = rate.remaining
      elseif t then rate_remaining = gcra_remaining(tat or now, now, t, burst)
      else rate_remaining = math.max(0, limit - live_n) end
    end
    -- resetAt: the rate part's (unconsumedReset() when nothing is consumed), then concurrency.
    local reset_at = now
    if consumed then
      if rate then reset_at = rate.reset end
    elseif t then
      reset_at = math.max(tat or now, now)
    elseif limit and last_live then
      reset_at = last_live + window_ms
    end
    local c = now
    if cmax then
      c = conc_reset
      if consumed then c = math.max(conc_reset, lease_expiry) end
    end
    reset_at = math.max(reset_at, c)
    local remaining = math.max(0, math.min(rate_remaining, conc_remaining))
    -- The time of the window entry this layer records, for a refund to remove exactly it.
    local entry_at = ''
    if consumed and w and w.ok then entry_at = fmt(w.at) end
    return { allowed and '1' or '0', fmt(wait_ms), fmt(retry_ms), fmt(remaining), fmt(reset_at),
             in_flight and tostring(in_flight) or '', blocked, fmt(now), entry_at }
  end
  out[i] = reply
  plans[i] = { k = k, a = a, g = g, w = w, cutoff = cutoff, cost = cost, window_ms = window_ms,
               total = total, expired = expired,
               lease_expiry = lease_expiry, conc_reset = conc_reset }
  if not allowed then all_allowed = false end
end

local commit = not dry and all_allowed
for i = 1, layers do out[i] = out[i](commit) end
if not commit then return out end

-- Commit: every layer allowed. Expired state is pruned only here, never on a rejection.
for i = 1, layers do
  local p = plans[i]
  local a, k = p.a, p.k
  if ARGV[a + 1] ~= '' then
    redis.call('SET', KEYS[k + 1], fmt(p.g.tat), 'PX', ttl(p.g.tat - now))
  end
  if ARGV[a + 3] ~= '' then
    local wk = KEYS[k + 2]
    redis.call('ZREMRANGEBYSCORE', wk, 0, fmt(p.cutoff))
    -- One member whatever the cost (a decision's work does not grow with it), and the total.
    local total = p.total - p.expired + p.cost
    redis.call('ZADD', wk, fmt(p.w.at), token .. ':' .. i .. '*' .. p.cost, fmt(-total - 1), '#')
    redis.call('PEXPIRE', wk, ttl(p.w.reset - now))
  end
  if ARGV[a + 5] ~= '' and ARGV[a + 9] ~= '' then
    local ck = KEYS[k + 3]
    redis.call('ZREMRANGEBYSCORE', ck, '-inf', fmt(now))
    redis.call('ZADD', ck, fmt(p.lease_expiry), ARGV[a + 9])
    redis.call('PEXPIRE', ck, ttl(math.max(p.conc_reset, p.lease_expiry) - now))
  end
end
return out
`;
