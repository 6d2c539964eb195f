-- Removes a task whose job, sent at once, the upstream refused or did not confirm: the client gets
-- the error and nothing is left behind (no task, no pending slot; it had no event yet). Answers 0
-- unless the task was being sent.
--- @include "lib/is-ended"
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] pending counts per account
-- ARGV[1] task id
if task_ended(KEYS[1]) or redis.call('HGET', KEYS[1], TASK.QUEUE) ~= TASK_QUEUE.SENDING then
  return 0
end
local account = redis.call('HGET', KEYS[1], TASK.ACCOUNT)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if tonumber(redis.call('HINCRBY', KEYS[3], account, -1)) <= 0 then
  redis.call('HDEL', KEYS[3], account)
end
return 1
