-- Records one webhook attempt in its task's delivery log and moves the delivery on: delivered (its
-- record removed), due again for a retry, or dead (kept for the retention, and listed for its account unless
-- it was a progress event, which gets one attempt only and is not worth a replay). An attempt that is not the
-- next one of a pending delivery is stale (its lease ran out and another dispatcher went on) and
-- changes nothing. A recover asked for while the attempt was under way (recover-deliveries.lua)
-- sends a delivery it did not accept again at once, as the recover would have.
--- @include "lib/log-attempt"
-- KEYS[1] delivery hash, KEYS[2] delivery due set, KEYS[3] the task's delivery log, KEYS[4] the
-- account's dead deliveries in this partition, KEYS[5] (to a registered endpoint only) its attempts here
-- ARGV[1] delivery id, ARGV[2] the delivery's state after it (pending = retried), ARGV[3] attempt number,
-- ARGV[4] next attempt at (ms), ARGV[5] log entry (JSON), ARGV[6] retention (ms), ARGV[7] now (ms),
-- ARGV[8] status code or '', ARGV[9] error or '', ARGV[10] the URL attempted (an endpoint's may have changed)
-- Answers 1 when recorded, 2 when recorded and due again now (a recover came meanwhile), 0 when stale.
local f = redis.call('HMGET', KEYS[1], DLV.STATE, DLV.ATTEMPT, DLV.TYPE, DLV.RECOVER)
if f[1] ~= DLV_STATE.PENDING or tonumber(f[2]) + 1 ~= tonumber(ARGV[3]) then
  return 0
end
local state = ARGV[2]
local next_at = ARGV[4]
local recovered = f[4] and state ~= DLV_STATE.DELIVERED
if f[4] then
  redis.call('HDEL', KEYS[1], DLV.RECOVER)
end
if recovered then
  state = DLV_STATE.PENDING
  next_at = ARGV[7]
end
redis.call('HSET', KEYS[1], DLV.ATTEMPT, ARGV[3], DLV.STATE, state, DLV.LAST_STATUS, ARGV[8], DLV.LAST_ERROR, ARGV[9],
  DLV.UPDATED_AT, ARGV[7])
if ARGV[10] and ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], DLV.TARGET, ARGV[10])
end
log_attempt(KEYS[3], ARGV[5], ARGV[6], ARGV[7], KEY_COUNT >= 5 and KEYS[5] or false, ARGV[1])
if state == DLV_STATE.PENDING then
  redis.call('ZADD', KEYS[2], next_at, ARGV[1])
elseif state == DLV_STATE.DELIVERED then
  -- nothing reads a delivered delivery again: the log has its attempts, a redelivery copies the
  -- task's event, and its body would otherwise stay for the retention
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  if state == DLV_STATE.DEAD and f[3] ~= EVENT.PROGRESS then
    redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])
    -- what died before the retention has no record left to list: its entry goes too, or a
    -- receiver that stays down would grow the list without end
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (tonumber(ARGV[7]) - tonumber(ARGV[6])))
    redis.call('PEXPIRE', KEYS[4], ARGV[6])
  end
end
if recovered then
  return 2
end
return 1
