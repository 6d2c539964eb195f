-- Records what came of sending a job: the upstream took it (the task runs: its fields are set, it
-- is due for its first poll and counted among its upstream's running tasks), or the upstream was
-- busy (the task waits again, its watchdog due a lease later, or at its deadline if sooner: the job
-- is put back in line next, and the watchdog then looks whether it got there — the replica may die
-- first). Appends task.submitted when the job was sent at once and this is its first word.
-- Answers 0, changing nothing, unless the task was being sent.
--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/append-event"
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] event stream, KEYS[4] running tasks per upstream
-- ARGV[1] task id, ARGV[2] 'running' or TASK_QUEUE.WAITING, ARGV[3] first poll, or the watchdog's
-- first look when waiting (ms), ARGV[4] stream max length, ARGV[5] the event's data ('' = none),
-- ARGV[6..] field/value pairs
-- What the script reads of the task before it writes, in one call: the fields it sets are none of these.
local status, queue, deadline, account, submitted = unpack(redis.call('HMGET', KEYS[1],
  TASK.STATUS, TASK.QUEUE, TASK.DEADLINE, TASK.ACCOUNT, TASK.SUBMITTED_AT))
if status == false or is_terminal(status) or queue ~= TASK_QUEUE.SENDING then
  return 0
end
if #ARGV > 5 then
  set_fields(KEYS[1], TASK_PIECED, 6, #ARGV)
end
if ARGV[2] == TASK_QUEUE.WAITING then
  redis.call('HSET', KEYS[1], TASK.QUEUE, TASK_QUEUE.WAITING)
  redis.call('ZADD', KEYS[2], math.min(tonumber(ARGV[3]), tonumber(deadline)), ARGV[1])
else
  redis.call('HDEL', KEYS[1], TASK.QUEUE)
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('HSET', KEYS[1], TASK.COUNTED, '1')
  -- set by the fields above
  redis.call('HINCRBY', KEYS[4], redis.call('HGET', KEYS[1], TASK.UPSTREAM), '1')
end
if ARGV[5] ~= '' then
  append_event(KEYS[3], ARGV[4], EVENT.SUBMITTED, ARGV[1], account, ARGV[5])
  note_event(KEYS[1], EVENT.SUBMITTED, submitted, '')
end
return 1
