-- Gives up a lease on a graceful stop, so that another replica takes the work over at once instead
-- of when the lease runs out. Only the holder can: answers 1 when it held it, 0 otherwise.
-- KEYS[1] the lease; ARGV[1] the caller
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
