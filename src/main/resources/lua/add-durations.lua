-- Adds what the pollers saw of ended tasks to one upstream action's duration history (DurationStore).
-- Every count is halved once per half-life, and at once when the history holds its most samples, so
-- old tasks fade: the history follows an upstream that speeds up or slows down, and no count grows
-- without bound. The hash belongs to this script alone. Answers the whole history as it now stands
-- (HGETALL's pairs), other replicas' counts included, so that adding is also reading.
-- KEYS[1] the history
-- ARGV[1] now (ms), ARGV[2] half-life (ms), ARGV[3] samples after which every count is halved,
-- ARGV[4] samples added, ARGV[5..] field/increment pairs (the samples among them)
local now = tonumber(ARGV[1])
local half_life = tonumber(ARGV[2])
local halved_at = tonumber(redis.call('HGET', KEYS[1], DURATION.HALVED_AT))
if not halved_at then
  redis.call('HSET', KEYS[1], DURATION.HALVED_AT, now)
else
  local halvings = math.floor((now - halved_at) / half_life)
  local samples = tonumber(redis.call('HGET', KEYS[1], DURATION.SAMPLES) or '0')
  if halvings < 1 and samples + tonumber(ARGV[4]) > tonumber(ARGV[3]) then
    halvings = 1
  end
  if halvings >= 1 then
    local divisor = 2 ^ math.min(halvings, 40)
    local all = redis.call('HGETALL', KEYS[1])
    for i = 1, #all, 2 do
      if all[i] ~= DURATION.HALVED_AT then
        local halved = math.floor(tonumber(all[i + 1]) / divisor)
        if halved > 0 then
          redis.call('HSET', KEYS[1], all[i], halved)
        else
          redis.call('HDEL', KEYS[1], all[i])
        end
      end
    end
    redis.call('HSET', KEYS[1], DURATION.HALVED_AT, now)
  end
end
redis.call('HINCRBY', KEYS[1], DURATION.SAMPLES, ARGV[4])
for i = 5, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
-- a history nobody adds to any more goes, long after it stopped mattering
redis.call('PEXPIRE', KEYS[1], half_life * 48)
return redis.call('HGETALL', KEYS[1])
