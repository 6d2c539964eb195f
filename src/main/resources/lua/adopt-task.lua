-- Hands a waiting task whose submit's request ended before putting its job in line to the client's
-- retry with the same Idempotency-Key, which puts it there: marks it adopted, unless it has ended or
-- left the line's phase. An adopted task is no longer withdrawn when the request that stored it turns
-- out to have been answered 503 (complete-task.lua): whichever of the two comes first decides.
-- Answers 1 when the task is the retry's.
--- @include "lib/is-ended"
-- KEYS[1] task hash
if not in_phase(KEYS[1], TASK_QUEUE.WAITING) then
  return 0
end
redis.call('HSET', KEYS[1], TASK.ADOPTED, '1')
return 1
