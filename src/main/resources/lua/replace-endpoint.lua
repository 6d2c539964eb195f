-- Stores an endpoint's new state (a rotated secret), unless it was removed meanwhile.
-- KEYS[1] the account's endpoints hash; ARGV[1] endpoint id, ARGV[2] endpoint (JSON)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
