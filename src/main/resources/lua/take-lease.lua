-- Takes or keeps a lease: one holder at a time, for ARGV[2] ms. Answers 1 when the caller holds it
-- now, having taken it afresh (its previous holder gone), 2 when it held it already, 0 when another does.
-- KEYS[1] the lease; ARGV[1] the caller, ARGV[2] the lease's length (ms)
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 2
end
if holder then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
