-- Marks a waiting job's task as being sent, to the upstream named, and makes it due at the end of the
-- send's lease: should the sender die mid-send, the poller then finds it still 'sending' and fails it
-- (its outcome is unknown: it is never sent again), naming that upstream for the operator to ask. Answers the task's trace context ('' without one), or nil,
-- changing nothing, when the task is not waiting (it ended, was cancelled, or a send of it was
-- already tried).
--- @include "lib/is-ended"
-- KEYS[1] task hash, KEYS[2] task due set
-- ARGV[1] task id, ARGV[2] lease end (ms), ARGV[3] the upstream it is sent to
if not in_phase(KEYS[1], TASK_QUEUE.WAITING) then
  return false
end
redis.call('HSET', KEYS[1], TASK.QUEUE, TASK_QUEUE.SENDING, TASK.UPSTREAM, ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return redis.call('HGET', KEYS[1], TASK.TRACE) or ''
