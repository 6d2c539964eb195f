-- How many attempts an endpoint's index keeps per partition, newest first: how far back its
-- attempts list reaches.
local ENDPOINT_ATTEMPTS_MAX = 1000

-- Appends an attempt's entry (JSON) to its task's delivery log, kept for the retention. An attempt to
-- a registered endpoint also joins the endpoint's attempts in this partition (`endpoint_attempts` its
-- key, false for a task's callbackUrl): '<place in the log>:<delivery id>' by time, which names the
-- entry without a second copy of it. Entries older than the retention or past the newest
-- ENDPOINT_ATTEMPTS_MAX leave the index.
local function log_attempt(log_key, entry, retention, now, endpoint_attempts, delivery_id)
  local length = redis.call('RPUSH', log_key, entry)
  redis.call('PEXPIRE', log_key, retention)
  if endpoint_attempts then
    redis.call('ZADD', endpoint_attempts, now, (length - 1) .. ':' .. delivery_id)
    redis.call('ZREMRANGEBYRANK', endpoint_attempts, 0, -(ENDPOINT_ATTEMPTS_MAX + 1))
    redis.call('ZREMRANGEBYSCORE', endpoint_attempts, '-inf', '(' .. (tonumber(now) - tonumber(retention)))
    redis.call('PEXPIRE', endpoint_attempts, retention)
  end
end
