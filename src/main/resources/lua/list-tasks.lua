-- Reads up to ARGV[3] entries of an account's task list in one partition (lib/task-list.lua), the
-- newest first, from those before position ARGV[2] ('' for from the newest).
-- Answers {end, entries...}: end is the position after the newest entry read (where a cursor that
-- has read nothing of this partition goes on from), each entry '<submitted ms>:<task id>'; an entry's
-- position is end - 1 for the first, end - 2 for the next, and so on.
--- @include "lib/task-list"
-- KEYS[1] the account's task list in the partition, KEYS[2] the partition's popped counts,
-- KEYS[3] the account's task set of relays before the list
-- ARGV[1] account, ARGV[2] before (position, or ''), ARGV[3] most entries
list_migrate(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
local popped = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local stop = popped + redis.call('LLEN', KEYS[1])
if ARGV[2] ~= '' then
  stop = math.min(stop, tonumber(ARGV[2]))
end
local out = {stop}
local last = stop - popped - 1
if last < 0 then
  return out
end
local first = math.max(0, last - tonumber(ARGV[3]) + 1)
local entries = redis.call('LRANGE', KEYS[1], first, last)
for i = #entries, 1, -1 do
  out[#out + 1] = entries[i]
end
return out
