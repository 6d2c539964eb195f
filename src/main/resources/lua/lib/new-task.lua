--- @include "lib/pieces"
--- @include "lib/append-event"
--- @include "lib/task-list"
-- Stores a new task, makes it due (for its first poll, or for the watchdog of a job not yet sent),
-- counts it against its account's pending tasks and appends task.submitted to the event stream, all
-- at once; a job being sent at once gets its event only when the upstream took it or it waits
-- (a refused one leaves nothing behind). The task joins its account's list of tasks in the
-- partition, from which tasks older than `oldest_ms` have expired. An existing id is left alone:
-- answers 0 then, else 1.
-- t: the task's keys {hash, due, pending, stream, list, listed, legacy} (the due set, the pending
-- counts per account, the event stream, the account's task list in the partition, the partition's
-- popped counts of those lists, the account's task set of relays before the list: lib/task-list.lua);
-- `data` the event's data (JSON, '' for none yet); the task's field/value pairs are ARGV[from .. to].
local function new_task(t, id, due_ms, account, max_len, data, oldest_ms, from, to)
  if redis.call('EXISTS', t.hash) == 1 then
    return 0
  end
  set_fields(t.hash, TASK_PIECED, from, to, true)
  local submitted = redis.call('HGET', t.hash, TASK.SUBMITTED_AT)
  list_add(t.list, t.listed, t.legacy, account, submitted, id, oldest_ms)
  redis.call('ZADD', t.due, due_ms, id)
  redis.call('HINCRBY', t.pending, account, 1)
  if data ~= '' then
    append_event(t.stream, max_len, EVENT.SUBMITTED, id, account, data)
    note_event(t.hash, EVENT.SUBMITTED, submitted, '')
  end
  return 1
end
