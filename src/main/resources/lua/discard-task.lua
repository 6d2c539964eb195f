-- Removes a task whose job, sent at once, the upstream refused or did not confirm, or whose submit
-- gave up on Redis before the upstream was asked: its client got an error, and nothing is left behind
-- (no task, no pending slot). Only a task being sent that has no event yet is removed: one that waited
-- in line since has its task.submitted, and the queue may be sending it. Answers 1 when it removed the task.
-- With ARGV[2], the task's key holds a marker in its place for that long, so that a store of the task
-- that Redis runs only now — sent before its submit gave up, and stalled — finds the id taken and
-- changes nothing (create-task.lua).
--- @include "lib/is-ended"
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] pending counts per account
-- ARGV[1] task id, ARGV[2] how long the marker stays (ms; '' for none)
local function keep_out()
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[1], TASK.ABANDONED, '1')
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
end

if redis.call('EXISTS', KEYS[1]) == 0 then
  keep_out()
  return 0
end
if not in_phase(KEYS[1], TASK_QUEUE.SENDING) or redis.call('HEXISTS', KEYS[1], TASK.EVENTS) == 1 then
  return 0
end
local account = redis.call('HGET', KEYS[1], TASK.ACCOUNT)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if tonumber(redis.call('HINCRBY', KEYS[3], account, '-1')) <= 0 then
  redis.call('HDEL', KEYS[3], account)
end
keep_out()
return 1
