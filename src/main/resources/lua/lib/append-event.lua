-- Notes an event in the task's own list of its events (TASK.EVENTS: 'type|at ms|webhook id'
-- entries, comma-separated), which GET /v1/tasks/{id} shows.
local function note_event(task_key, event_type, at_ms, webhook_id)
  local entry = event_type .. '|' .. at_ms .. '|' .. (webhook_id or '')
  local known = redis.call('HGET', task_key, TASK.EVENTS)
  redis.call('HSET', task_key, TASK.EVENTS, known and (known .. ',' .. entry) or entry)
end

-- Appends one task event to the event stream, trimmed to about max_len entries.
local function append_event(stream, max_len, event_type, task_id, account, data)
  redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*',
    'type', event_type, 'taskId', task_id, 'account', account, 'data', data)
end
