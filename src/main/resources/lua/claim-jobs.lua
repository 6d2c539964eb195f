-- Claims waiting jobs to send, fairly: while an upstream has room, the account with the lowest pass
-- sends the job at the head of its line (stride scheduling: weighted round-robin across accounts,
-- first in first out within one), to an upstream picked by weight among those with room. Each
-- claimed job holds its room and sits in q .. 'sending' until the lease ends; a job whose lease
-- ran out (its replica died) goes back to the head of its line, and its task's record decides
-- whether it may still be sent (never twice). In-flight entries that lapsed are dropped. A change
-- pinned to an upstream this replica lacks waits for a replica that has it; when none has announced
-- it lately, the upstream has left the pool: the job is claimed without room, for its task to fail.
--- @include "lib/upstream-room"
--- @include "lib/waiting-line"
--- @include "lib/pieces"
-- KEYS[1] the waiting accounts
-- ARGV[1] now (ms), ARGV[2] most jobs to claim, ARGV[3] lease end (ms), ARGV[4] queue key prefix,
-- ARGV[5..] the upstreams
-- Answers when more may be sent ('' when that waits on a task ending), then per job its task id,
-- upstream, account, path, body and time it was queued (ms).
local now, max, lease_end, q = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local ups, by_name = read_upstreams(5)
local accounts = KEYS[1]
local sending = q .. 'sending'

for _, id in ipairs(redis.call('ZRANGEBYSCORE', sending, '-inf', now)) do
  back_to_head(q, id)
end
for _, up in ipairs(ups) do
  redis.call('ZREMRANGEBYSCORE', inflight_key(q, up.name), '-inf', now)
end

local claimed = {''}
local count, soonest, blocked = 0, nil, {}
while count < max do
  local chosen, again = nil, false
  local turns = redis.call('ZRANGE', accounts, 0, -1, 'WITHSCORES')
  for i = 1, #turns, 2 do
    local account = turns[i]
    if not blocked[account] then
      local id = redis.call('LINDEX', line_key(q, account), 0)
      if id == false then
        redis.call('ZREM', accounts, account)
      else
        local job = redis.call('HMGET', job_key(q, id), JOB.UPSTREAM, JOB.WEIGHT)
        if job[2] == false then
          -- cancelled, or ended at its deadline: its record is gone
          redis.call('LPOP', line_key(q, account))
          again = true
          break
        end
        local candidates = ups
        if job[1] ~= '' then
          candidates = {by_name[job[1]]}
          if candidates[1] == nil and not served_elsewhere(q, job[1], now) then
            chosen = {account = account, id = id, up = {name = job[1]}, gone = true}
            break
          end
        end
        local up, at = pick_upstream(q, candidates, now)
        if up then
          chosen = {account = account, pass = tonumber(turns[i + 1]), id = id, up = up, weight = tonumber(job[2])}
          break
        end
        blocked[account] = true
        if at and (soonest == nil or at < soonest) then
          soonest = at
        end
      end
    end
  end
  if chosen then
    local line = line_key(q, chosen.account)
    redis.call('LPOP', line)
    redis.call('ZADD', sending, lease_end, chosen.id)
    if redis.call('LLEN', line) == 0 then
      redis.call('ZREM', accounts, chosen.account)
    elseif not chosen.gone then
      redis.call('ZADD', accounts, chosen.pass + stride(chosen.weight), chosen.account)
    end
    if not chosen.gone then
      -- a job that is only to fail takes no room and costs its account no turn
      take_room(q, chosen.up, chosen.id, now, lease_end)
      redis.call('SET', q .. 'vtime', chosen.pass)
    end
    local job = redis.call('HMGET', job_key(q, chosen.id), JOB.PATH, JOB.QUEUED_AT, JOB.ACTION)
    claimed[#claimed + 1] = chosen.id
    claimed[#claimed + 1] = chosen.up.name
    claimed[#claimed + 1] = chosen.account
    claimed[#claimed + 1] = job[1] or ''
    claimed[#claimed + 1] = get_pieced(job_key(q, chosen.id), JOB.BODY) or ''
    claimed[#claimed + 1] = job[2] or '0'
    claimed[#claimed + 1] = job[3] or ''
    count = count + 1
  elseif not again then
    break
  end
end
if count == max then
  claimed[1] = tostring(now)
else
  local lapse = redis.call('ZRANGE', sending, 0, 0, 'WITHSCORES')[2]
  if lapse and (soonest == nil or tonumber(lapse) < soonest) then
    soonest = tonumber(lapse)
  end
  if soonest then
    claimed[1] = tostring(soonest)
  end
end
return claimed
