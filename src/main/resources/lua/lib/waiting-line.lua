-- The job queue's waiting line, all in one slot under the prefix q: per account a list of its
-- waiting task ids, first in first out (q .. 'jobs:' .. account); each job's hash (q .. 'job:' ..
-- id, fields JOB); the accounts with jobs waiting in a sorted set
-- by their pass (q .. 'accounts'), for stride scheduling: the account with the lowest pass sends
-- next and its pass grows by its stride; q .. 'vtime' is the pass last served.

local function line_key(q, account)
  return q .. 'jobs:' .. account
end

local function job_key(q, id)
  return q .. 'job:' .. id
end

-- A submit's leave to put its job in line, set by the step before (a reservation that found no room,
-- or the upstream's busy answer to the job sent at once) for a few seconds of this Redis's own clock:
-- an enqueue Redis runs later than that, stalled until after the request gave up on it and its
-- client was answered 503, finds it gone, and the job does not run for a client told it failed.
local function admit(q, id, ms)
  redis.call('SET', q .. 'admit:' .. id, '1', 'PX', ms)
end

-- Whether the submit may still put the job in line; the leave is used up either way.
local function admitted(q, id)
  return redis.call('DEL', q .. 'admit:' .. id) == 1
end

-- An account whose line was empty takes its turns from the pass last served: it neither waits
-- behind the others' backlog nor gets credit for the time it had nothing waiting.
local function join_line(q, account)
  if redis.call('ZSCORE', q .. 'accounts', account) == false then
    redis.call('ZADD', q .. 'accounts', redis.call('GET', q .. 'vtime') or 0, account)
  end
end

-- A claimed job that was not sent goes back to the head of its account's line, its sending entry
-- removed (a job whose record is gone, cancelled meanwhile, goes nowhere).
local function back_to_head(q, id)
  redis.call('ZREM', q .. 'sending', id)
  local account = redis.call('HGET', job_key(q, id), JOB.ACCOUNT)
  if account then
    join_line(q, account)
    redis.call('LPUSH', line_key(q, account), id)
  end
end

-- How far an account's pass moves for each job it sends: 1,000,000 / its weight, never under 1 (a
-- stride of 0 would keep the turn forever and starve every other account). The start-up check
-- holds a weight to RelayConfig.MAX_ACCOUNT_WEIGHT, the weight whose stride is 1; a larger one
-- set by hand gets that share and no more.
local function stride(weight)
  return math.max(1, math.floor(1000000 / math.max(1, weight or 1)))
end
