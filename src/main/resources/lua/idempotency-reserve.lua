-- Reserves an Idempotency-Key for a request in flight, or answers what the key already holds
-- (a reservation of an earlier request, or its answer). Nil means the key is now reserved.
-- KEYS[1] the key; ARGV[1] the reservation value, ARGV[2] its time to live (ms)
local existing = redis.call('GET', KEYS[1])
if existing then
  return existing
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
