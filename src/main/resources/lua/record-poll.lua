-- Records what a poll saw of a task that has not ended and schedules its next poll. When the poll
-- saw a status word the task has not been notified of (tasks with notifyProgress only), it also
-- appends task.progress to the event stream and enqueues one progress delivery per target.
-- Does nothing if the task ended meanwhile, so an ended task is never due again and never gets a
-- progress event after its terminal one.
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] delivery due set, KEYS[4] event stream
-- ARGV[1] task id, ARGV[2] next poll at (ms), ARGV[3] now (ms), ARGV[4] N task field/value entries,
-- ARGV[5 .. 4+N] those entries, then, only for a progress event: status word, delivery key prefix,
-- stream max length, webhook id, event body, event data (JSON), and (delivery id, target, secret ref) triples
local status = redis.call('HGET', KEYS[1], 'status')
if status == false or status == 'TASK_STATUS_SUCCEED' or status == 'TASK_STATUS_FAILED' then
  return 0
end
local n = tonumber(ARGV[4])
if n > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 5, 4 + n))
end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
local p = 5 + n
if ARGV[p] == nil then
  return 1
end
local word = ARGV[p]
local sent = redis.call('HGET', KEYS[1], 'progressSent') or ''
if string.find(',' .. sent .. ',', ',' .. word .. ',', 1, true) then
  return 1
end
local account = redis.call('HGET', KEYS[1], 'account')
redis.call('HSET', KEYS[1], 'progressSent', sent == '' and word or (sent .. ',' .. word))
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[p + 2], '*',
  'type', 'task.progress', 'taskId', ARGV[1], 'account', account, 'data', ARGV[p + 5])
local ids = redis.call('HGET', KEYS[1], 'progressDeliveries') or ''
local i = p + 6
while i + 2 <= #ARGV do
  local id = ARGV[i]
  redis.call('HSET', ARGV[p + 1] .. id,
    'taskId', ARGV[1], 'account', account, 'webhookId', ARGV[p + 3], 'type', 'task.progress',
    'target', ARGV[i + 1], 'secret', ARGV[i + 2], 'body', ARGV[p + 4],
    'attempt', 0, 'state', 'pending', 'createdAt', ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[3], id)
  ids = ids == '' and id or (ids .. ',' .. id)
  i = i + 3
end
redis.call('HSET', KEYS[1], 'progressDeliveries', ids)
return 1
