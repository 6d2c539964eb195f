--- @include "lib/upstream-room"
--- @include "lib/waiting-line"
--- @include "lib/pieces"

-- Takes upstream room for a job sent at once: only when nothing of its account waits (first in,
-- first out) and an upstream it may go to ('' = any) has room, until `lapse` (ms) unless the job
-- is answered. The upstreams come in ARGV from `ups_from` (lib/upstream-room.lua). Answers the
-- upstream's name, or false.
local function reserve_room(q, now, lapse, account, id, pinned, ups_from)
  if redis.call('LLEN', line_key(q, account)) > 0 then
    return false
  end
  local ups, by_name = read_upstreams(ups_from)
  local candidates = ups
  if pinned ~= '' then
    candidates = {by_name[pinned]}
  end
  local up = pick_upstream(q, candidates, now)
  if up == nil then
    return false
  end
  take_room(q, up, id, now, lapse)
  return up.name
end

-- Puts a job in its account's line: at the end, or at the head for a job that was in front of the
-- line all along (sent at once, and the upstream was busy); its field/value pairs are ARGV[from ..
-- to]. Answers its place in the line (1 = next).
local function enqueue_job(q, id, account, head, from, to)
  redis.call('HSET', job_key(q, id), JOB.ACCOUNT, account)
  set_fields(job_key(q, id), JOB_PIECED, from, to)
  join_line(q, account)
  if head then
    redis.call('LPUSH', line_key(q, account), id)
    return 1
  end
  return redis.call('RPUSH', line_key(q, account), id)
end

-- Records how a job's send ended. 'accepted': the task runs there and holds its room until the entry
-- lapses at `lapse` (renewed while it is polled) or the task ends (an upstream without a limit, `lapse`
-- '', holds none). 'busy': the job goes back to the head of its line and the upstream waits a
-- back-off. 'refused' and 'lost': the job is done (a lost one is never sent again). 'dropped': the
-- job was not sent (its task ended, or a send of it was already tried).
-- Answers 1 when this answer opened the upstream's circuit.
local function settle_job(q, now, id, upstream, outcome, lapse)
  redis.call('ZREM', q .. 'sending', id)
  if outcome == 'accepted' then
    if lapse ~= '' then
      redis.call('ZADD', inflight_key(q, upstream), lapse, id)
    end
  else
    redis.call('ZREM', inflight_key(q, upstream), id)
  end
  local opened = 0
  if outcome == 'busy' then
    opened = answered(q, upstream, true, now)
    local account = redis.call('HGET', job_key(q, id), JOB.ACCOUNT)
    if account then
      join_line(q, account)
      redis.call('LPUSH', line_key(q, account), id)
    end
    return opened
  end
  if outcome == 'dropped' then
    -- not an answer: free the trial slot it may have held
    if redis.call('HEXISTS', state_key(q, upstream), ROOM.FAILS) == 1 then
      redis.call('HSET', state_key(q, upstream), ROOM.NOT_BEFORE, now)
    end
  else
    answered(q, upstream, false, now)
  end
  redis.call('DEL', job_key(q, id))
  return 0
end
