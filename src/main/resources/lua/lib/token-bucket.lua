-- A token bucket in a hash ('tokens', 'at'), shared by every replica: it refills at `rate` tokens a
-- second and holds at most `capacity`. Time is Redis's own, so replicas with skewed clocks still agree.

-- Redis's time now (ms).
local function redis_now()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- The tokens in the bucket at `now`, refilled since it was last written, and that time.
local function bucket_tokens(key, rate, capacity, now)
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or capacity
  local at = tonumber(bucket[2]) or now
  if now > at then
    tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
    at = now
  end
  return tokens, at
end

-- Writes the bucket back, kept until it would be full again and a second more (at least `keep_ms`).
local function save_bucket(key, tokens, at, rate, capacity, keep_ms)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', at)
  redis.call('PEXPIRE', key, math.max(math.ceil(capacity * 1000 / rate) + 1000, keep_ms or 0))
end
