/**
 * The opening of every script that needs the time: `now` in epoch ms from the server's clock
 * (`TIME`), or from ARGV[1] when a test pins the clock (ARGV[1] is '' otherwise). `clock` is
 * TIME's reply ({seconds, microseconds} as strings), nil under a test clock.
 */
export const SERVER_NOW_LUA = `local now, clock
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
end`;
