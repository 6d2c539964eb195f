-- Stores a new task, makes it due for its first poll and counts it against its account's pending
-- tasks, all at once. A task id that already exists is left alone.
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] pending counts per account
-- ARGV[1] task id, ARGV[2] first poll at (ms), ARGV[3] account, ARGV[4..] task field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
return 1
