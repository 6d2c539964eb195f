-- Appends one task event to the event stream, trimmed to about max_len entries.
local function append_event(stream, max_len, event_type, task_id, account, data)
  redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*',
    'type', event_type, 'taskId', task_id, 'account', account, 'data', data)
end
