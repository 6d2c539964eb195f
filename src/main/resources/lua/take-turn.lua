-- Takes one attempt token of a registered endpoint's rateLimit for one delivery, in the order the
-- endpoint's deliveries were created: over the rate, deliveries wait in the endpoint's line, and a
-- token goes to a delivery only when the tokens there cover every delivery ahead of it in line and
-- itself — so the oldest waiting goes first, whichever replica or claim asks first. The bucket
-- (lib/token-bucket.lua) refills at the rate and holds at most `capacity` tokens. A delivery told
-- to wait is told for how long: until enough tokens for its place in line, at most `horizon`; it
-- asks again then. One at the head of the line that is `late` past the time it was told (delivered,
-- skipped or gone elsewhere, its replica dead) leaves the line; should it ask again, it joins at its
-- own place once more.
-- KEYS[1] the endpoint's bucket (hash: tokens, at, and 'w:<delivery id>' = when each waiting one
-- was told to come back, ms), KEYS[2] its line (zset: delivery id by creation time, ms)
-- ARGV[1] rate (tokens per second), ARGV[2] capacity (tokens), ARGV[3] delivery id, ARGV[4] its
-- creation (ms), ARGV[5] late (ms), ARGV[6] horizon (ms)
-- Answers 0 when the attempt may go now, else the milliseconds to wait.
--- @include "lib/token-bucket"
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local id = ARGV[3]
local late = tonumber(ARGV[5])
local horizon = tonumber(ARGV[6])
local now = redis_now()
local tokens, at = bucket_tokens(KEYS[1], rate, capacity, now)

redis.call('ZADD', KEYS[2], 'NX', ARGV[4], id)
-- heads that did not come back when told, a bounded number per call
for _ = 1, 100 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if head == nil or head == id then
    break
  end
  local told = tonumber(redis.call('HGET', KEYS[1], 'w:' .. head))
  if told and now <= told + late then
    break
  end
  redis.call('ZREM', KEYS[2], head)
  redis.call('HDEL', KEYS[1], 'w:' .. head)
end

local needed = redis.call('ZRANK', KEYS[2], id) + 1
local wait = 0
if tokens >= needed then
  tokens = tokens - 1
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[1], 'w:' .. id)
else
  wait = math.min(horizon, math.ceil((needed - tokens) * 1000 / rate))
  redis.call('HSET', KEYS[1], 'w:' .. id, now + wait)
end
local keep = horizon + late + 1000
save_bucket(KEYS[1], tokens, at, rate, capacity, keep)
redis.call('PEXPIRE', KEYS[2], math.max(math.ceil(capacity * 1000 / rate) + 1000, keep))
return wait
