-- Hands claimed work back on shutdown: each id still in the due set becomes due now instead of at
-- the end of its lease. Ids no longer there (their work ended meanwhile) are left out.
-- KEYS[1] a due set (tasks or deliveries); ARGV[1] now (ms), ARGV[2..] ids
local released = 0
for i = 2, #ARGV do
  released = released + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
end
return released
