-- Moves a waiting job's watchdog to a later look (its deadline), only while the task still waits in
-- line. A watchdog that saw the job waiting may act after it was sent, or after the upstream took it:
-- it must not move what the send scheduled since (the send's lease end, or the first poll).
-- Answers 1 when it moved the watchdog, 0 when the task no longer waits.
--- @include "lib/is-ended"
-- KEYS[1] task hash, KEYS[2] task due set
-- ARGV[1] task id, ARGV[2] the next look (ms)
if not in_phase(KEYS[1], TASK_QUEUE.WAITING) then
  return 0
end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
return 1
