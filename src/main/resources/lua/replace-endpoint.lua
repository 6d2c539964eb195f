-- Stores an endpoint's new state (a rotated secret, new settings), unless it was removed or changed
-- since it was read: the caller reads it again and makes its change anew, so no change undoes another.
-- KEYS[1] the account's endpoints hash; ARGV[1] endpoint id, ARGV[2] endpoint (JSON), ARGV[3] the endpoint as read
-- Returns 1 stored, 0 removed meanwhile, -1 changed meanwhile.
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then
  return 0
end
if stored ~= ARGV[3] then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
