-- Sends again, now, an account's dead deliveries in one partition that died since a time — to one
-- target, or to any: each keeps its delivery id and webhook-id, becomes pending, due now, and leaves
-- the dead list. Looks at a batch of the list at a time, so that no call holds Redis long: from the
-- first that died since the time, passing over the ones an earlier batch kept (another target's);
-- what dies after the request began (one sent again that failed again, say) is not looked at.
--- @include "lib/enqueue-deliveries"
-- KEYS[1] the delivery due set, KEYS[2] the account's dead deliveries in this partition
-- ARGV[1] delivery key prefix, ARGV[2] since (ms), ARGV[3] now: when the request began (ms), ARGV[4] the target ('' for any),
-- ARGV[5] how many to pass over, ARGV[6] how many to look at
-- Answers {how many were sent again, how many were looked at, how many of those were kept}.
local sent, kept = 0, 0
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', ARGV[5], ARGV[6])
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, DLV.STATE, DLV.TARGET)
  if f[1] ~= DLV_STATE.DEAD then
    -- its record's retention has ended: nothing is left to send
    redis.call('ZREM', KEYS[2], id)
  elseif ARGV[4] ~= '' and f[2] ~= ARGV[4] then
    kept = kept + 1
  else
    send_again(key, KEYS[1], KEYS[2], id, ARGV[3])
    sent = sent + 1
  end
end
return {sent, #ids, kept}
