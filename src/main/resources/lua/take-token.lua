-- Takes one request token from an account's bucket, shared by every replica: the bucket refills at
-- the account's rate and holds at most one second's worth. Time is Redis's own, so replicas with
-- skewed clocks still agree. The bucket's two fields belong to this script alone.
-- KEYS[1] the account's bucket
-- ARGV[1] rate (tokens per second), ARGV[2] capacity (tokens)
-- Answers 0 when a token was taken, else the milliseconds until one will be there.
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
  at = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return wait
