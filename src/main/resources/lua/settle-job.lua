-- Records how a job's send ended. 'accepted': the task runs there and holds its room until the entry
-- lapses (renewed while it is polled) or the task ends (an upstream without a limit holds none). 'busy': the job goes back to the head of its
-- line and the upstream waits a back-off. 'refused' and 'lost': the job is done (a lost one is never
-- sent again). 'dropped': the job was not sent (its task ended, or a send of it was already tried).
-- Answers 1 when this answer opened the upstream's circuit.
--- @include "lib/upstream-room"
--- @include "lib/waiting-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] now (ms), ARGV[2] queue key prefix, ARGV[3] task id, ARGV[4] upstream, ARGV[5] outcome,
-- ARGV[6] when an accepted task's room lapses unless renewed (ms; '' for an upstream without a max in flight),
-- ARGV[7] how long a busy job's submit may put it in line (ms; lib/waiting-line.lua, admit)
local now, q, id, upstream, outcome = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('ZREM', q .. 'sending', id)
if outcome == 'accepted' then
  if ARGV[6] ~= '' then
    redis.call('ZADD', inflight_key(q, upstream), ARGV[6], id)
  end
else
  redis.call('ZREM', inflight_key(q, upstream), id)
end
local opened = 0
if outcome == 'busy' then
  opened = answered(q, upstream, true, now)
  if redis.call('EXISTS', job_key(q, id)) == 1 then
    back_to_head(q, id)
  else
    -- sent at once by its submit, whose request puts it in line next
    admit(q, id, ARGV[7])
  end
  return opened
end
if outcome == 'dropped' then
  -- not an answer: free the trial slot it may have held
  if redis.call('HEXISTS', state_key(q, upstream), ROOM.FAILS) == 1 then
    redis.call('HSET', state_key(q, upstream), ROOM.NOT_BEFORE, now)
  end
else
  answered(q, upstream, false, now)
end
redis.call('DEL', job_key(q, id))
return 0
