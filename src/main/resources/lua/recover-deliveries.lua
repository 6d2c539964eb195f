-- Sends again, now, the deliveries of one partition to a registered endpoint created since a time
-- that the endpoint has not accepted: skipped, dead, or still waiting for a retry. Each keeps its
-- delivery id and webhook-id and becomes pending, due now; a dead one leaves the dead list. One
-- whose attempt is under way (claimed, its lease running) is left to that attempt, and marked so
-- that, should the attempt not be accepted, the next is at once: sent now beside it, the receiver
-- would get the event twice at the same moment.
--- @include "lib/enqueue-deliveries"
-- KEYS[1] the delivery due set, KEYS[2] the account's dead deliveries in this partition
-- ARGV[1] delivery key prefix, ARGV[2] endpoint id, ARGV[3] since (ms), ARGV[4] now (ms)
-- Answers how many were sent again.

local now = tonumber(ARGV[4])
local index = endpoint_index(ARGV[1], ARGV[2])
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', index, ARGV[3], '+inf')) do
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, DLV.STATE, DLV.LEASED_UNTIL)
  local state = f[1]
  if state == DLV_STATE.PENDING and under_way(KEYS[1], id, f[2], now) then
    redis.call('HSET', key, DLV.RECOVER, ARGV[4])
    count = count + 1
  elseif state == DLV_STATE.SKIPPED or state == DLV_STATE.DEAD or state == DLV_STATE.PENDING then
    send_again(key, KEYS[1], KEYS[2], id, ARGV[4])
    count = count + 1
  end
end
return count
