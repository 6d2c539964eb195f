-- Reads fields of a task's hash, joining the pieces of those stored in pieces when long
-- (lib/pieces): one HMGET, and a further read only behind a first piece that may have more; the
-- task's event notes are appended entries (lib/append-event).
--- @include "lib/pieces"
-- KEYS[1] the hash
-- ARGV[1..] the fields, a pieced one's name after a '+' ('+prompt')
-- Answers their values in the same order (nil for an unset one).
local names = {}
local pieced = {}
for i = 1, #ARGV do
  if string.sub(ARGV[i], 1, 1) == '+' then
    names[i] = string.sub(ARGV[i], 2)
    pieced[#pieced + 1] = i
  else
    names[i] = ARGV[i]
  end
end
local values = redis.call('HMGET', KEYS[1], unpack(names))
for _, i in ipairs(pieced) do
  values[i] = joined(KEYS[1], names[i], values[i], names[i] == TASK.EVENTS)
end
return values
