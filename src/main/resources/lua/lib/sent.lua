--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/append-event"
-- Records what came of sending a job: the upstream took it (`next` 'running': the task runs, its
-- fields ARGV[from .. to] are set, it is due for its first poll at `first_poll` and counted among its
-- upstream's running tasks), or the upstream was busy (TASK_QUEUE.WAITING: the task waits again, its
-- watchdog due at its deadline). Appends task.submitted (`data`, '' = none) when the job was sent at
-- once and this is its first word.
-- Answers 0, changing nothing, unless the task was being sent.
-- t: the task's keys {hash, due, stream, running} (its due set, the event stream, the running tasks
-- per upstream)
local function after_send(t, id, next, first_poll, max_len, data, from, to)
  if task_ended(t.hash) or redis.call('HGET', t.hash, TASK.QUEUE) ~= TASK_QUEUE.SENDING then
    return 0
  end
  if to >= from then
    set_fields(t.hash, TASK_PIECED, from, to)
  end
  if next == TASK_QUEUE.WAITING then
    redis.call('HSET', t.hash, TASK.QUEUE, TASK_QUEUE.WAITING)
    redis.call('ZADD', t.due, redis.call('HGET', t.hash, TASK.DEADLINE), id)
  else
    redis.call('HDEL', t.hash, TASK.QUEUE)
    redis.call('ZADD', t.due, first_poll, id)
    redis.call('HSET', t.hash, TASK.COUNTED, '1')
    redis.call('HINCRBY', t.running, redis.call('HGET', t.hash, TASK.UPSTREAM), 1)
  end
  if data ~= '' then
    append_event(t.stream, max_len, EVENT.SUBMITTED, id, redis.call('HGET', t.hash, TASK.ACCOUNT), data)
    note_event(t.hash, EVENT.SUBMITTED, redis.call('HGET', t.hash, TASK.SUBMITTED_AT), '')
  end
  return 1
end
