-- The pool's upstreams and their room for new jobs, shared by every replica. Per upstream:
-- q .. 'up:' .. name, a hash (ROOM): FAILS busy or unreachable submit answers in a row, NOT_BEFORE no
-- new job before this time (ms: a back-off after a busy answer, the open circuit, a trial in flight),
-- CURRENT_WEIGHT its weight in smooth weighted round-robin, TOKENS and TOKENS_AT its submit-rate bucket.
-- q .. 'inflight:' .. name, a sorted set, for an upstream with a max in flight only: the tasks sent
-- there and not ended, each scored by when its entry lapses unless renewed, so a replica that dies
-- leaks no room for longer than that. An upstream without a limit needs no room held: its running
-- tasks are counted in their partitions (after-send.lua, complete-task.lua), for the gauge only.
-- The upstreams come in ARGV from index `from`: their count, then per upstream its name, weight,
-- max in flight (0: no limit) and submits per second (0: no limit).
-- q .. 'pool', a hash: per upstream, when a replica last announced that its pool has it (ms).

local BACKOFF_FIRST_MS = 1000
local BACKOFF_MAX_MS = 30000

local function read_upstreams(from)
  local ups, by_name = {}, {}
  for i = 0, tonumber(ARGV[from]) - 1 do
    local b = from + 1 + i * 4
    local up = {name = ARGV[b], weight = tonumber(ARGV[b + 1]), max = tonumber(ARGV[b + 2]),
                rate = tonumber(ARGV[b + 3])}
    ups[#ups + 1] = up
    by_name[up.name] = up
  end
  return ups, by_name
end

local function state_key(q, name)
  return q .. 'up:' .. name
end

local function inflight_key(q, name)
  return q .. 'inflight:' .. name
end

-- The tokens in the upstream's rate bucket now; it holds one second's worth, at least one.
local function tokens_of(q, up, now)
  local s = redis.call('HMGET', state_key(q, up.name), ROOM.TOKENS, ROOM.TOKENS_AT)
  local capacity = math.max(1, up.rate)
  local tokens = tonumber(s[1]) or capacity
  local at = tonumber(s[2]) or now
  if now > at then
    tokens = math.min(capacity, tokens + (now - at) * up.rate / 1000)
  end
  return tokens
end

-- Whether a replica has announced the upstream `name` lately: it is in the pool, if not in this
-- replica's (a rolling update that adds it has not reached this one yet).
local function served_elsewhere(q, name, now)
  local at = tonumber(redis.call('HGET', q .. 'pool', name))
  return at ~= nil and at >= now - SERVED_WITHIN_MS
end

-- Whether the upstream takes a new job now; if not, when it may next (ms), or 0 when that depends
-- on a task ending.
local function has_room(q, up, now)
  local until_ms = tonumber(redis.call('HGET', state_key(q, up.name), ROOM.NOT_BEFORE)) or 0
  if now < until_ms then
    return false, until_ms
  end
  if up.max > 0 and redis.call('ZCOUNT', inflight_key(q, up.name), '(' .. now, '+inf') >= up.max then
    return false, 0
  end
  if up.rate > 0 then
    local tokens = tokens_of(q, up, now)
    if tokens < 1 then
      return false, now + math.ceil((1 - tokens) * 1000 / up.rate)
    end
  end
  return true, 0
end

-- Takes room on the upstream for the task `id` until `lapse` (ms). After busy answers, only one job
-- at a time tries the upstream (the trial) until one is answered.
local function take_room(q, up, id, now, lapse)
  local key = state_key(q, up.name)
  if up.max > 0 then
    redis.call('ZADD', inflight_key(q, up.name), lapse, id)
  end
  if up.rate > 0 then
    redis.call('HSET', key, ROOM.TOKENS, tostring(tokens_of(q, up, now) - 1), ROOM.TOKENS_AT, now)
  end
  if tonumber(redis.call('HGET', key, ROOM.FAILS) or '0') > 0 then
    redis.call('HSET', key, ROOM.NOT_BEFORE, lapse)
  end
end

-- Of `candidates`, the upstream with room that smooth weighted round-robin picks (nil when none
-- has room), and the earliest time one of the others may have room (nil when not known).
local function pick_upstream(q, candidates, now)
  local room, soonest = {}, nil
  for _, up in ipairs(candidates) do
    local ok, at = has_room(q, up, now)
    if ok then
      room[#room + 1] = up
    elseif at > 0 and (soonest == nil or at < soonest) then
      soonest = at
    end
  end
  local best, best_weight, total = nil, nil, 0
  for _, up in ipairs(room) do
    local current = redis.call('HINCRBY', state_key(q, up.name), ROOM.CURRENT_WEIGHT, up.weight)
    total = total + up.weight
    if best == nil or current > best_weight then
      best, best_weight = up, current
    end
  end
  if best then
    redis.call('HINCRBY', state_key(q, best.name), ROOM.CURRENT_WEIGHT, -total)
  end
  return best, soonest
end

-- Records the class of the upstream's answer to a submit. Busy (or unreachable): wait before the
-- next job, 1 s doubling to 30 s, and after five in a row the circuit opens for 30 s. Any other
-- answer closes it. Answers 1 when this answer opened the circuit.
local function answered(q, name, busy, now)
  local key = state_key(q, name)
  if not busy then
    redis.call('HDEL', key, ROOM.FAILS, ROOM.NOT_BEFORE)
    return 0
  end
  local fails = redis.call('HINCRBY', key, ROOM.FAILS, 1)
  local wait = BACKOFF_MAX_MS
  if fails < CIRCUIT_TRIPS_AFTER then
    wait = math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ^ (fails - 1))
  end
  redis.call('HSET', key, ROOM.NOT_BEFORE, now + wait)
  if fails == CIRCUIT_TRIPS_AFTER then
    return 1
  end
  return 0
end
