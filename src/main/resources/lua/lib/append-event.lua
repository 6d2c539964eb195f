--- @include "lib/pieces"
-- Notes an event in the task's own list of its events (TASK.EVENTS: 'type|at ms|webhook id'
-- entries, comma-separated once joined), which GET /v1/tasks/{id} shows. Each entry is a piece of
-- its own (lib/pieces), so that the list never makes the task hash a long value.
local function note_event(task_key, event_type, at_ms, webhook_id)
  append_piece(task_key, TASK.EVENTS, event_type .. '|' .. at_ms .. '|' .. (webhook_id or ''), ',')
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
