-- The most deliveries a registered endpoint's index keeps per partition, newest first: how far back
-- a recover reaches.
local ENDPOINT_INDEX_MAX = 10000

-- The partition's index of a registered endpoint's deliveries by creation time (ms), for recover:
-- beside the delivery hashes, whose key prefix ends in 'dlv:'.
local function endpoint_index(prefix, endpoint_id)
  return string.sub(prefix, 1, #prefix - 4) .. 'epdlv:' .. endpoint_id
end

-- Enqueues one event for delivery to the target whose (delivery id, target URL, secret ref) triple
-- stands in ARGV at index `i`: a delivery hash, due now. A delivery to a registered endpoint also joins
-- that endpoint's index. `trace` is the task's trace context (false without one), which each attempt
-- continues. Answers the delivery id.
local function enqueue_delivery(prefix, due_key, now, task_id, account, webhook_id, event_type, body, trace, i)
  local id = ARGV[i]
  redis.call('HSET', prefix .. id,
    DLV.TASK_ID, task_id, DLV.ACCOUNT, account, DLV.WEBHOOK_ID, webhook_id, DLV.TYPE, event_type,
    DLV.TARGET, ARGV[i + 1], DLV.SECRET, ARGV[i + 2], DLV.BODY, body,
    DLV.ATTEMPT, '0', DLV.STATE, DLV_STATE.PENDING, DLV.CREATED_AT, now)
  if trace then
    redis.call('HSET', prefix .. id, DLV.TRACE, trace)
  end
  redis.call('ZADD', due_key, now, id)
  local secret_ref = ARGV[i + 2]
  if string.sub(secret_ref, 1, 9) == 'endpoint:' then
    local index = endpoint_index(prefix, string.sub(secret_ref, 10))
    redis.call('ZADD', index, now, id)
    redis.call('ZREMRANGEBYRANK', index, 0, -(ENDPOINT_INDEX_MAX + 1))
  end
  return id
end

-- Enqueues one event for delivery to each of `count` targets, whose triples stand in ARGV from index
-- `from` on (enqueue_delivery). Answers the delivery ids, in order.
local function enqueue_deliveries(prefix, due_key, now, task_id, account, webhook_id, event_type, body, trace, from, count)
  local ids = {}
  for t = 0, count - 1 do
    ids[#ids + 1] = enqueue_delivery(prefix, due_key, now, task_id, account, webhook_id, event_type, body, trace,
      from + 3 * t)
  end
  return ids
end

-- How many whole triples stand in ARGV from index `from` to its end.
local function triples_from(from)
  return math.floor((#ARGV - from + 1) / 3)
end

-- Whether a pending delivery's attempt is under way: still scored at its claim's lease end (which the
-- claim wrote to the delivery as `leased_until`) and that end not yet come. A retry, a postponement or
-- a hand-back scores it anew.
local function under_way(due_key, id, leased_until, now)
  if not leased_until or tonumber(leased_until) <= now then
    return false
  end
  local score = redis.call('ZSCORE', due_key, id)
  return score ~= false and tonumber(score) == tonumber(leased_until)
end

-- Sends a delivery again, now: it keeps its id, webhook-id and attempts so far, becomes pending, due
-- now, is kept until it ends again, and leaves the account's dead list if it was there.
local function send_again(key, due_key, dead_key, id, now)
  redis.call('HSET', key, DLV.STATE, DLV_STATE.PENDING, DLV.UPDATED_AT, now)
  redis.call('PERSIST', key)
  redis.call('ZADD', due_key, now, id)
  redis.call('ZREM', dead_key, id)
end
