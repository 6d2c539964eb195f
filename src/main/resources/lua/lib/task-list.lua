-- An account's task list in one partition, for GET /v1/tasks: a Redis list of '<submitted ms>:<task id>'
-- entries in the order the tasks were stored, the newest at the tail. A list entry takes ~36 bytes
-- where a sorted set too large for Redis's compact encoding took ~140. Entries are trimmed from the
-- head as they age, and the partition's 'listed' hash counts per account the entries ever taken off
-- the head, so that popped + index is an entry's position for good: a page's cursor holds one
-- position per partition, and later submits or trims never shift what it points at.
--
-- Relays before this list kept a sorted set ('tasks:<account>', by submit time). Its entries are
-- older than every list entry, so the first touch of the list moves them to its head, oldest first,
-- taking their count off the popped count so that no position already handed out moves.

local function list_migrate(list, listed, legacy, account)
  if redis.call('EXISTS', legacy) == 0 then
    return
  end
  local old = redis.call('ZREVRANGE', legacy, 0, -1, 'WITHSCORES')
  for i = 1, #old, 2 do
    redis.call('LPUSH', list, old[i + 1] .. ':' .. old[i])
  end
  redis.call('HINCRBY', listed, account, -(#old / 2))
  redis.call('DEL', legacy)
end

-- Appends a task and takes off the head at most a few entries older than oldest_ms (more go with
-- the next appends; a listing skips tasks already gone).
local function list_add(list, listed, legacy, account, submitted_ms, task_id, oldest_ms)
  list_migrate(list, listed, legacy, account)
  redis.call('RPUSH', list, submitted_ms .. ':' .. task_id)
  local oldest = tonumber(oldest_ms)
  local popped = 0
  for _ = 1, 4 do
    local head = redis.call('LINDEX', list, '0')
    if not head or tonumber(string.match(head, '^(%d+):')) >= oldest then
      break
    end
    redis.call('LPOP', list)
    popped = popped + 1
  end
  if popped > 0 then
    redis.call('HINCRBY', listed, account, popped)
  end
end
