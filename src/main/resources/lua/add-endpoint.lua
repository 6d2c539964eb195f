-- Registers an endpoint unless the account already has the most it may have.
-- KEYS[1] the account's endpoints hash; ARGV[1] endpoint id, ARGV[2] endpoint (JSON), ARGV[3] most endpoints
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
