-- Records what a poll saw of a task that has not ended and schedules its next poll. Does nothing if
-- the task ended meanwhile (another replica completed it), so an ended task is never due again.
-- KEYS[1] task hash, KEYS[2] task due set
-- ARGV[1] task id, ARGV[2] next poll at (ms), ARGV[3..] task field/value pairs
local status = redis.call('HGET', KEYS[1], 'status')
if status == false or status == 'TASK_STATUS_SUCCEED' or status == 'TASK_STATUS_FAILED' then
  return 0
end
if #ARGV > 2 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
return 1
