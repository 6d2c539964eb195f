-- Replaces an Idempotency-Key's value only if it still holds the expected one: a request taking over
-- a reservation left by one that died, or freeing its own, never undoes another request's.
-- KEYS[1] the key; ARGV[1] the expected value, ARGV[2] the new one ('' removes the key), ARGV[3] its time to live (ms)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
