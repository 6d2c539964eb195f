-- Whether a task status word is one of the two terminal ones.
local function is_terminal(status)
  return status == STATUS.TASK_STATUS_SUCCEED or status == STATUS.TASK_STATUS_FAILED
end

-- Whether the task hash is gone (expired, never stored) or its task has ended.
local function task_ended(task_key)
  local status = redis.call('HGET', task_key, TASK.STATUS)
  return status == false or is_terminal(status)
end

-- Whether the task is stored, has not ended, and is in job-queue phase `phase` (TASK.QUEUE), read
-- in one call.
local function in_phase(task_key, phase)
  local f = redis.call('HMGET', task_key, TASK.STATUS, TASK.QUEUE)
  return f[1] ~= false and not is_terminal(f[1]) and f[2] == phase
end
