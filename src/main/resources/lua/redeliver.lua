-- Sends an ended task's terminal event again: one new delivery per target, with the event's own
-- webhook id and body, each with its own attempts. Answers -1 when the task has not ended, 0 when
-- it does not exist, else the number of deliveries enqueued.
-- KEYS[1] task hash, KEYS[2] delivery due set
-- ARGV[1] task id, ARGV[2] now (ms), ARGV[3] delivery key prefix, then (delivery id, target, secret ref) triples
local f = redis.call('HMGET', KEYS[1], 'status', 'account', 'webhookId', 'eventType', 'event')
if f[1] == false then
  return 0
end
if f[1] ~= 'TASK_STATUS_SUCCEED' and f[1] ~= 'TASK_STATUS_FAILED' then
  return -1
end
local count = 0
local i = 4
while i + 2 <= #ARGV do
  local id = ARGV[i]
  redis.call('HSET', ARGV[3] .. id,
    'taskId', ARGV[1], 'account', f[2], 'webhookId', f[3], 'type', f[4],
    'target', ARGV[i + 1], 'secret', ARGV[i + 2], 'body', f[5],
    'attempt', 0, 'state', 'pending', 'createdAt', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  count = count + 1
  i = i + 3
end
return count
