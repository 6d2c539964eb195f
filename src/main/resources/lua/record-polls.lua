-- Records a batch of polls of running tasks of one partition and schedules each task's next poll:
-- record-poll.lua without progress events, for many tasks in one call. A task that ended meanwhile
-- is left alone, so an ended task is never due again.
-- KEYS[1] task due set, KEYS[2..] the tasks' hashes, in the order of the entries below
-- ARGV per task: id, next poll at (ms), N task field/value entries, those N entries
-- Returns one 1 (recorded) or 0 (it had ended) per task.
local results = {}
local a = 1
for k = 2, #KEYS do
  local id = ARGV[a]
  local n = tonumber(ARGV[a + 2])
  local status = redis.call('HGET', KEYS[k], 'status')
  if status == false or status == 'TASK_STATUS_SUCCEED' or status == 'TASK_STATUS_FAILED' then
    results[#results + 1] = 0
  else
    if n > 0 then
      redis.call('HSET', KEYS[k], unpack(ARGV, a + 3, a + 2 + n))
    end
    redis.call('ZADD', KEYS[1], 'XX', ARGV[a + 1], id)
    results[#results + 1] = 1
  end
  a = a + 3 + n
end
return results
