-- Reads fields of a task's hash, joining the pieces of those stored in pieces when long
-- (lib/pieces); its event notes are appended entries (lib/append-event).
--- @include "lib/pieces"
-- KEYS[1] the hash
-- ARGV[1..] the fields, a pieced one's name after a '+' ('+prompt')
-- Answers their values in the same order (nil for an unset one).
local values = {}
for i = 1, #ARGV do
  local field = ARGV[i]
  if string.sub(field, 1, 1) == '+' then
    local name = string.sub(field, 2)
    values[i] = get_pieced(KEYS[1], name, name == TASK.EVENTS)
  else
    values[i] = redis.call('HGET', KEYS[1], field)
  end
end
return values
