-- Whether a task status word is one of the two terminal ones.
local function is_terminal(status)
  return status == STATUS.TASK_STATUS_SUCCEED or status == STATUS.TASK_STATUS_FAILED
end

-- Whether the task hash is gone (expired, never stored) or its task has ended.
local function task_ended(task_key)
  local status = redis.call('HGET', task_key, TASK.STATUS)
  return status == false or is_terminal(status)
end
