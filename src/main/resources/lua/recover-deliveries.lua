-- Sends again, now, the deliveries of one partition to a registered endpoint created since a time
-- that the endpoint has not accepted: skipped, dead, or still waiting for a retry. Each keeps its
-- delivery id and webhook-id and becomes pending, due now; a dead one leaves the dead list.
--- @include "lib/enqueue-deliveries"
-- KEYS[1] the delivery due set, KEYS[2] the account's dead deliveries in this partition
-- ARGV[1] delivery key prefix, ARGV[2] endpoint id, ARGV[3] since (ms), ARGV[4] now (ms)
-- Answers how many were sent again.
local index = endpoint_index(ARGV[1], ARGV[2])
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', index, ARGV[3], '+inf')) do
  local key = ARGV[1] .. id
  local state = redis.call('HGET', key, DLV.STATE)
  if state == DLV_STATE.SKIPPED or state == DLV_STATE.DEAD or state == DLV_STATE.PENDING then
    send_again(key, KEYS[1], KEYS[2], id, ARGV[4])
    count = count + 1
  end
end
return count
