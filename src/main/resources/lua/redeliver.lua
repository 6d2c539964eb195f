-- Sends an ended task's terminal event again, now, to each target, with the event's own webhook id
-- and body, on the delivery the target already has (its id is made from the task, the event and the
-- target), so that a redelivery never sends the event beside a copy of itself:
--   one whose attempt is under way is left to that attempt and marked as a recover marks it: should
--     the attempt not be accepted, the next is at once (record-attempt.lua);
--   one waiting for a retry, dead, or skipped (its endpoint disabled) is due now and starts its
--     attempts over, the whole retry schedule after; a dead one leaves the account's dead list;
--   where there is none (delivered: its record went then; or an endpoint registered since the
--     task ended), a new delivery, due now.
-- Answers -1 when the task has not ended, 0 when it does not exist, else the number of targets.
--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/enqueue-deliveries"
-- The task's deliveries that died so far leave the account's dead list, whichever target they were
-- for: the redelivery stands for them (and what it sends is listed in turn if it dies), so that a
-- later redelivery of the dead list does not send the event once more. Which they are, the task's
-- delivery log says (each attempt names its delivery; an older replica made each redelivery anew).
-- KEYS[1] task hash, KEYS[2] delivery due set, KEYS[3] the task's delivery log, KEYS[4] the account's
-- dead deliveries in this partition
-- ARGV[1] task id, ARGV[2] now (ms), ARGV[3] delivery key prefix, then (delivery id, target, secret ref) triples
local f = redis.call('HMGET', KEYS[1], TASK.STATUS, TASK.ACCOUNT, TASK.WEBHOOK_ID, TASK.EVENT_TYPE, TASK.EVENT,
  TASK.TRACE)
if f[1] == false then
  return 0
end
if not is_terminal(f[1]) then
  return -1
end
for _, entry in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  if string.find(entry, '"outcome":"dead"', 1, true) then
    local ok, attempt = pcall(cjson.decode, entry)
    if ok and type(attempt) == 'table' and attempt.outcome == 'dead' and type(attempt.deliveryId) == 'string' then
      redis.call('ZREM', KEYS[4], attempt.deliveryId)
    end
  end
end
local now = tonumber(ARGV[2])
local count = triples_from(4)
local body = nil
for t = 0, count - 1 do
  local i = 4 + 3 * t
  local id = ARGV[i]
  local key = ARGV[3] .. id
  local d = redis.call('HMGET', key, DLV.STATE, DLV.LEASED_UNTIL)
  if d[1] == DLV_STATE.PENDING and under_way(KEYS[2], id, d[2], now) then
    redis.call('HSET', key, DLV.RECOVER, ARGV[2])
  elseif d[1] == DLV_STATE.PENDING or d[1] == DLV_STATE.DEAD or d[1] == DLV_STATE.SKIPPED then
    redis.call('HSET', key, DLV.ATTEMPT, 0)
    send_again(key, KEYS[2], KEYS[4], id, ARGV[2])
  else
    body = body or get_pieced(KEYS[1], TASK.EVENT)
    enqueue_delivery(ARGV[3], KEYS[2], ARGV[2], ARGV[1], f[2], f[3], f[4], body, f[6], i)
  end
end
return count
