-- Enqueues one event for delivery to each of `count` targets: a delivery hash per target, due now.
-- The targets are (delivery id, target URL, secret ref) triples in ARGV, the first at index `from`.
-- Answers the delivery ids, in order.
local function enqueue_deliveries(prefix, due_key, now, task_id, account, webhook_id, event_type, body, from, count)
  local ids = {}
  for t = 0, count - 1 do
    local i = from + 3 * t
    local id = ARGV[i]
    redis.call('HSET', prefix .. id,
      DLV.TASK_ID, task_id, DLV.ACCOUNT, account, DLV.WEBHOOK_ID, webhook_id, DLV.TYPE, event_type,
      DLV.TARGET, ARGV[i + 1], DLV.SECRET, ARGV[i + 2], DLV.BODY, body,
      DLV.ATTEMPT, 0, DLV.STATE, DLV_STATE.PENDING, DLV.CREATED_AT, now)
    redis.call('ZADD', due_key, now, id)
    ids[#ids + 1] = id
  end
  return ids
end

-- How many whole triples stand in ARGV from index `from` to its end.
local function triples_from(from)
  return math.floor((#ARGV - from + 1) / 3)
end
