-- Stores a new task, makes it due (for its first poll, or for the watchdog of a job not yet sent),
-- counts it against its account's pending tasks and appends task.submitted to the event stream, all
-- at once; a job being sent at once gets its event only when the upstream took it or it waits
-- (a refused one leaves nothing behind). An existing id is left alone.
--- @include "lib/pieces"
--- @include "lib/append-event"
--- @include "lib/task-list"
-- The task joins its account's list of tasks in the partition, from which tasks older than
-- ARGV[6] (ms) have expired.
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] pending counts per account, KEYS[4] event stream,
-- KEYS[5] the account's task list in the partition, KEYS[6] the partition's popped counts of those
-- lists, KEYS[7] the account's task set of relays before the list (lib/task-list.lua)
-- ARGV[1] task id, ARGV[2] first poll at (ms), ARGV[3] account, ARGV[4] stream max length,
-- ARGV[5] the event's data (JSON, '' for none yet), ARGV[6] oldest listed (ms), ARGV[7..] task
-- field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
set_fields(KEYS[1], TASK_PIECED, 7, #ARGV, true)
local submitted = redis.call('HGET', KEYS[1], TASK.SUBMITTED_AT)
list_add(KEYS[5], KEYS[6], KEYS[7], ARGV[3], submitted, ARGV[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[3], '1')
if ARGV[5] ~= '' then
  append_event(KEYS[4], ARGV[4], EVENT.SUBMITTED, ARGV[1], ARGV[3], ARGV[5])
  note_event(KEYS[1], EVENT.SUBMITTED, submitted, '')
end
return 1
