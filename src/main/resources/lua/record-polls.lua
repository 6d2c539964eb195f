-- Records a batch of polls of running tasks of one partition and schedules each task's next poll.
-- A poll that saw a status word its task has not been notified of (notifyProgress tasks only) also
-- carries a task.progress event: it is appended to the event stream and enqueued for each target.
-- A task that ended meanwhile is left alone, so an ended task is never due again and never gets a
-- progress event after its terminal one.
--- @include "lib/is-ended"
--- @include "lib/pieces"
--- @include "lib/append-event"
--- @include "lib/enqueue-deliveries"
-- KEYS[1] task due set, KEYS[2] delivery due set, KEYS[3] event stream, KEYS[4..] the tasks'
-- hashes, in the order of the entries below
-- ARGV[1] now (ms), ARGV[2] delivery key prefix, ARGV[3] stream max length, then per task: id,
-- next poll at (ms), N task field/value entries, those N entries, T progress targets (-1: no
-- progress event), and with a progress event: status word, webhook id, event body, event data
-- (JSON), then T (delivery id, target, secret ref) triples
-- Answers one 1 (recorded) or 0 (it had ended) per task.
local results = {}
local a = 4
for k = 4, KEY_COUNT do
  local id = ARGV[a]
  local n = tonumber(ARGV[a + 2])
  local targets = tonumber(ARGV[a + 3 + n])
  local next_entry = a + 4 + n
  if targets >= 0 then
    next_entry = next_entry + 4 + 3 * targets
  end
  if task_ended(KEYS[k]) then
    results[#results + 1] = 0
  else
    if n > 0 then
      set_fields(KEYS[k], TASK_PIECED, a + 3, a + 2 + n)
    end
    redis.call('ZADD', KEYS[1], 'XX', ARGV[a + 1], id)
    results[#results + 1] = 1
    local p = a + 4 + n
    local word = ARGV[p]
    local sent = targets >= 0 and (redis.call('HGET', KEYS[k], TASK.PROGRESS_SENT) or '') or nil
    if sent and not string.find(',' .. sent .. ',', ',' .. word .. ',', 1, true) then
      local account = redis.call('HGET', KEYS[k], TASK.ACCOUNT)
      redis.call('HSET', KEYS[k], TASK.PROGRESS_SENT, sent == '' and word or (sent .. ',' .. word))
      append_event(KEYS[3], ARGV[3], EVENT.PROGRESS, id, account, ARGV[p + 3], ARGV[p + 1])
      note_event(KEYS[k], EVENT.PROGRESS, ARGV[1], ARGV[p + 1])
      local ids = enqueue_deliveries(ARGV[2], KEYS[2], ARGV[1], id, account, ARGV[p + 1], EVENT.PROGRESS,
        ARGV[p + 2], redis.call('HGET', KEYS[k], TASK.TRACE), p + 4, targets)
      for _, did in ipairs(ids) do
        append_piece(KEYS[k], TASK.PROGRESS_DELIVERIES, did, ',')
      end
    end
  end
  a = next_entry
end
return results
