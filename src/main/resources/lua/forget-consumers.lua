-- Removes the consumers of a stream's group, other than ARGV[2], that hold no pending entry: those of
-- replicas gone (a Kubernetes pod has a new name at every restart), which would otherwise stay in the
-- group for good, one more at every restart. A consumer with entries pending is kept: removing it
-- would drop them unsent. A replica still running becomes a consumer again at its next read.
-- KEYS[1] the stream; ARGV[1] the group, ARGV[2] the consumer to keep
-- Answers how many were removed.
local removed = 0
for _, flat in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #flat, 2 do
    info[flat[i]] = flat[i + 1]
  end
  if info['name'] ~= ARGV[2] and tonumber(info['pending']) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
