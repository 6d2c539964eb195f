-- Ends a task exactly once: records its result, takes it off the due set, frees its pending slot,
-- takes it off its upstream's running tasks, lets it expire after the retention, drops progress
-- deliveries not yet made (no progress after the end: their records go), appends the terminal
-- event to the event stream and enqueues one delivery of it per target, all or nothing. A task that has already ended
-- is left alone, which is what makes the terminal event exactly-once across replicas.
--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/append-event"
--- @include "lib/enqueue-deliveries"
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] delivery due set, KEYS[4] pending counts,
-- KEYS[5] event stream, KEYS[6] running tasks per upstream
-- ARGV[1] task id, ARGV[2] now (ms), ARGV[3] retention (ms), ARGV[4] delivery key prefix,
-- ARGV[5] webhook id, ARGV[6] event type, ARGV[7] event body, ARGV[8] event data (JSON),
-- ARGV[9] stream max length, ARGV[10] the job-queue phase the task must be in ('' = any: see
-- TASK.QUEUE), ARGV[11] '1' for a withdrawal (a waiting task whose submit was answered with an error:
-- one adopted by the client's retry is left alone, see adopt-task.lua; one withdrawn is marked so),
-- else '', ARGV[12] number N of task field/value entries that follow,
-- ARGV[13 .. 12+N] those entries, then (delivery id, target, secret ref) triples.
-- All the script reads of the task, in one call (a call from a script costs Redis a few microseconds
-- beyond its own work), before it writes: the fields it sets are none of these.
local status, queue, adopted, account, counted, upstream, trace, progress = unpack(redis.call('HMGET', KEYS[1],
  TASK.STATUS, TASK.QUEUE, TASK.ADOPTED, TASK.ACCOUNT, TASK.COUNTED, TASK.UPSTREAM, TASK.TRACE, TASK.PROGRESS_DELIVERIES))
if status == false or is_terminal(status) then
  return 0
end
if ARGV[10] ~= '' and queue ~= ARGV[10] then
  return 0
end
if ARGV[11] == '1' and adopted then
  return 0
end
local n = tonumber(ARGV[12])
set_fields(KEYS[1], TASK_PIECED, 13, 12 + n)
redis.call('HSET', KEYS[1], TASK.WEBHOOK_ID, ARGV[5], TASK.EVENT_TYPE, ARGV[6])
-- no event was set before the end, so there are no pieces of one to remove
set_field(KEYS[1], TASK_PIECED, TASK.EVENT, ARGV[7], true)
redis.call('ZREM', KEYS[2], ARGV[1])
if tonumber(redis.call('HINCRBY', KEYS[4], account, '-1')) <= 0 then
  redis.call('HDEL', KEYS[4], account)
end
if counted then
  if tonumber(redis.call('HINCRBY', KEYS[6], upstream, '-1')) <= 0 then
    redis.call('HDEL', KEYS[6], upstream)
  end
end
-- what only a running task needs: its job-queue phase, its count, its poll schedule's memory
redis.call('HDEL', KEYS[1], TASK.QUEUE, TASK.ADOPTED, TASK.COUNTED, TASK.BASE_AT, TASK.END_BY, TASK.MISSES, TASK.NOT_FOUND,
  TASK.ERRORS, TASK.OVERSIZE, TASK.MIRROR_SINCE)
if ARGV[11] == '1' then
  redis.call('HSET', KEYS[1], TASK.ABANDONED, '1')
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if progress then
  progress = get_pieced(KEYS[1], TASK.PROGRESS_DELIVERIES, true)
  for id in string.gmatch(progress, '[^,]+') do
    if redis.call('ZREM', KEYS[3], id) == 1 then
      redis.call('DEL', ARGV[4] .. id)
    end
  end
end
append_event(KEYS[5], ARGV[9], ARGV[6], ARGV[1], account, ARGV[8], ARGV[5])
note_event(KEYS[1], ARGV[6], ARGV[2], ARGV[5])
enqueue_deliveries(ARGV[4], KEYS[3], ARGV[2], ARGV[1], account, ARGV[5], ARGV[6], ARGV[7],
  trace, 13 + n, triples_from(13 + n))
return 1
