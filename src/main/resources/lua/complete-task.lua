-- Ends a task exactly once: records its result, takes it off the due set, frees its pending slot,
-- lets it expire after the retention, drops progress deliveries not yet made (no progress after
-- the end), appends the terminal event to the event stream and enqueues one delivery of it per
-- target, all or nothing. A task that has already ended is left alone, which is what makes the
-- terminal event exactly-once across replicas.
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] delivery due set, KEYS[4] pending counts,
-- KEYS[5] event stream
-- ARGV[1] task id, ARGV[2] now (ms), ARGV[3] retention (ms), ARGV[4] delivery key prefix,
-- ARGV[5] webhook id, ARGV[6] event type, ARGV[7] event body, ARGV[8] event data (JSON),
-- ARGV[9] stream max length, ARGV[10] number N of task field/value entries that follow,
-- ARGV[11 .. 10+N] those entries, then (delivery id, target, secret ref) triples.
local status = redis.call('HGET', KEYS[1], 'status')
if status == false or status == 'TASK_STATUS_SUCCEED' or status == 'TASK_STATUS_FAILED' then
  return 0
end
local n = tonumber(ARGV[10])
redis.call('HSET', KEYS[1], unpack(ARGV, 11, 10 + n))
redis.call('HSET', KEYS[1], 'webhookId', ARGV[5], 'eventType', ARGV[6], 'event', ARGV[7])
redis.call('ZREM', KEYS[2], ARGV[1])
local account = redis.call('HGET', KEYS[1], 'account')
if tonumber(redis.call('HINCRBY', KEYS[4], account, -1)) <= 0 then
  redis.call('HDEL', KEYS[4], account)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local progress = redis.call('HGET', KEYS[1], 'progressDeliveries')
if progress then
  for id in string.gmatch(progress, '[^,]+') do
    if redis.call('ZREM', KEYS[3], id) == 1 then
      redis.call('HSET', ARGV[4] .. id, 'state', 'superseded')
      redis.call('PEXPIRE', ARGV[4] .. id, ARGV[3])
    end
  end
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '*',
  'type', ARGV[6], 'taskId', ARGV[1], 'account', account, 'data', ARGV[8])
local i = 11 + n
while i + 2 <= #ARGV do
  local id = ARGV[i]
  redis.call('HSET', ARGV[4] .. id,
    'taskId', ARGV[1], 'account', account, 'webhookId', ARGV[5], 'type', ARGV[6],
    'target', ARGV[i + 1], 'secret', ARGV[i + 2], 'body', ARGV[7],
    'attempt', 0, 'state', 'pending', 'createdAt', ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[2], id)
  i = i + 3
end
return 1
