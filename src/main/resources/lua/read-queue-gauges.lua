-- The job queue's gauges in one call (QueueGauges), rather than a call per account and two per
-- upstream every second: per account the jobs waiting in its line, then per upstream whether its
-- circuit is open (1, else 0) and how many of its in-flight entries have not lapsed.
-- KEYS[1..ARGV[1]] the accounts' lines, then per upstream its room hash and its in-flight set
-- ARGV[1] how many accounts, ARGV[2] now (ms)
local accounts = tonumber(ARGV[1])
local answer = {}
for i = 1, accounts do
  answer[i] = redis.call('LLEN', KEYS[i])
end
for i = accounts + 1, KEY_COUNT, 2 do
  local fails = tonumber(redis.call('HGET', KEYS[i], ROOM.FAILS) or '0')
  answer[#answer + 1] = fails >= CIRCUIT_TRIPS_AFTER and 1 or 0
  answer[#answer + 1] = redis.call('ZCOUNT', KEYS[i + 1], '(' .. ARGV[2], '+inf')
end
return answer
