-- Gives back what claims of the job queue still hold though their answers never reached the
-- claimer (see unclaim-due.lua): Redis ran them after the claimer had given up waiting, so none of
-- their jobs was sent. Each job still in q .. 'sending' under exactly one of the lease ends goes
-- back to the head of its account's line and gives its upstream room back, as when its lease runs
-- out (claim-jobs.lua), without waiting for that; an upstream trial it held may go again at once.
-- The account's turn it took is not given back.
--- @include "lib/upstream-room"
--- @include "lib/waiting-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] now (ms), ARGV[2] queue key prefix, ARGV[3] how many lease ends (n), ARGV[4..3+n] the
-- lease ends, ARGV[4+n..] the upstreams
-- Answers, per lease end, how many jobs it still held.
local now, q, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ups = read_upstreams(4 + n)
local sending = q .. 'sending'
local held = {}
for i = 4, 3 + n do
  local lease_end = ARGV[i]
  local ids = redis.call('ZRANGEBYSCORE', sending, lease_end, lease_end)
  for _, id in ipairs(ids) do
    back_to_head(q, id)
    for _, up in ipairs(ups) do
      local lapse = redis.call('ZSCORE', inflight_key(q, up.name), id)
      if lapse and tonumber(lapse) == tonumber(lease_end) then
        redis.call('ZREM', inflight_key(q, up.name), id)
      end
      local not_before = redis.call('HGET', state_key(q, up.name), ROOM.NOT_BEFORE)
      if not_before and tonumber(not_before) == tonumber(lease_end) then
        redis.call('HSET', state_key(q, up.name), ROOM.NOT_BEFORE, now)
      end
    end
  end
  held[#held + 1] = #ids
end
return held
