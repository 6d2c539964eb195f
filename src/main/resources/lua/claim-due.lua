-- Claims the tasks of one partition that are due for a poll: each claimed task's score moves to the
-- end of the lease, so no other poller takes it meanwhile, and a poller that dies mid-poll loses
-- nothing: the task is due again when the lease runs out. Ids whose task hash has expired are dropped.
-- KEYS[1] task due set
-- ARGV[1] now (ms), ARGV[2] most tasks to claim, ARGV[3] lease end (ms), ARGV[4] task key prefix
-- Returns a flat list: the earliest due time left in the set ('' when empty), then per task: id,
-- upstreamId, deadline, notFound, errors, status, notifyProgress, taskType, baseAt, endBy, misses.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {''}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ARGV[4] .. id, 'upstreamId', 'deadline', 'notFound', 'errors', 'status', 'notifyProgress', 'taskType', 'baseAt', 'endBy', 'misses')
  if f[1] == false then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    claimed[#claimed + 1] = id
    for i = 1, 10 do
      claimed[#claimed + 1] = f[i] or ''
    end
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then
  claimed[1] = first[2]
end
return claimed
