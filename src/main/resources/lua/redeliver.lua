-- Sends an ended task's terminal event again: one new delivery per target, with the event's own
-- webhook id and body, each with its own attempts. Answers -1 when the task has not ended, 0 when
-- it does not exist, else the number of deliveries enqueued.
--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/enqueue-deliveries"
-- The task's deliveries that died so far leave the account's dead list: the new ones stand for them
-- (and are listed in turn if they die), so that a later redelivery of the dead list does not send the
-- event once more. Which they are, the task's delivery log says (each attempt names its delivery).
-- KEYS[1] task hash, KEYS[2] delivery due set, KEYS[3] the task's delivery log, KEYS[4] the account's
-- dead deliveries in this partition
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
for _, entry in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  if string.find(entry, '"outcome":"dead"', 1, true) then
    local ok, attempt = pcall(cjson.decode, entry)
    if ok and type(attempt) == 'table' and attempt.outcome == 'dead' and type(attempt.deliveryId) == 'string' then
      redis.call('ZREM', KEYS[4], attempt.deliveryId)
    end
  end
end
return #enqueue_deliveries(ARGV[3], KEYS[2], ARGV[2], ARGV[1], f[2], f[3], f[4], f[5], f[6], 4, triples_from(4))
