-- Notes an event in the task's own list of its events (TASK.EVENTS: 'type|at ms|webhook id'
-- entries, comma-separated), which GET /v1/tasks/{id} shows.
local function note_event(task_key, event_type, at_ms, webhook_id)
  local entry = event_type .. '|' .. at_ms .. '|' .. (webhook_id or '')
  local known = redis.call('HGET', task_key, TASK.EVENTS)
  redis.call('HSET', task_key, TASK.EVENTS, known and (known .. ',' .. entry) or entry)
end

-- Appends one task event to the event stream, with its webhook id when it has one (the id event
-- sinks forward it under), trimmed to about max_len entries; max_len '0': not trimmed here, since
-- event sinks trim the stream only behind what they have all forwarded (store/EventStreams).
local function append_event(stream, max_len, event_type, task_id, account, data, webhook_id)
  local fields = {'type', event_type, 'taskId', task_id, 'account', account, 'data', data}
  if webhook_id and webhook_id ~= '' then
    fields[#fields + 1] = 'webhookId'
    fields[#fields + 1] = webhook_id
  end
  if max_len == '0' then
    redis.call('XADD', stream, '*', unpack(fields))
  else
    redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*', unpack(fields))
  end
end
