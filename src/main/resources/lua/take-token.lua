-- Takes one request token from an account's bucket (lib/token-bucket.lua), shared by every replica:
-- the bucket refills at the account's rate and holds at most one second's worth. The bucket's two
-- fields belong to this script alone.
-- KEYS[1] the account's bucket
-- ARGV[1] rate (tokens per second), ARGV[2] capacity (tokens)
-- Answers 0 when a token was taken, else the milliseconds until one will be there.
--- @include "lib/token-bucket"
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tokens, at = bucket_tokens(KEYS[1], rate, capacity, redis_now())
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
save_bucket(KEYS[1], tokens, at, rate, capacity)
return wait
