-- Sends an ended task's terminal event again: one new delivery per target, with the event's own
-- webhook id and body, each with its own attempts. Answers -1 when the task has not ended, 0 when
-- it does not exist, else the number of deliveries enqueued.
--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/enqueue-deliveries"
-- KEYS[1] task hash, KEYS[2] delivery due set
-- ARGV[1] task id, ARGV[2] now (ms), ARGV[3] delivery key prefix, then (delivery id, target, secret ref) triples
local f = redis.call('HMGET', KEYS[1], TASK.STATUS, TASK.ACCOUNT, TASK.WEBHOOK_ID, TASK.EVENT_TYPE, TASK.EVENT,
  TASK.TRACE)
if f[1] == false then
  return 0
end
if not is_terminal(f[1]) then
  return -1
end
f[5] = get_pieced(KEYS[1], TASK.EVENT)
return #enqueue_deliveries(ARGV[3], KEYS[2], ARGV[2], ARGV[1], f[2], f[3], f[4], f[5], f[6], 4, triples_from(4))
