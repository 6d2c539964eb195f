-- Takes upstream room for a job sent at once: only when nothing of its account waits (first in,
-- first out) and an upstream it may go to has room. Answers the upstream's name, or false, and then
-- the submit has leave to put the job in line for ARGV[7] ms (lib/waiting-line.lua, admit).
--- @include "lib/upstream-room"
--- @include "lib/waiting-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] now (ms), ARGV[2] when the room lapses unless the job is answered (ms), ARGV[3] queue key
-- prefix, ARGV[4] account, ARGV[5] task id, ARGV[6] the upstream it must go to ('' = any),
-- ARGV[7] how long the submit may put the job in line instead (ms), ARGV[8..] the upstreams
local now, q = tonumber(ARGV[1]), ARGV[3]
local function no_room()
  admit(q, ARGV[5], ARGV[7])
  return false
end
if redis.call('LLEN', line_key(q, ARGV[4])) > 0 then
  return no_room()
end
local ups, by_name = read_upstreams(8)
local candidates = ups
if ARGV[6] ~= '' then
  -- a change goes where its parent ran; an upstream this replica lacks: the job waits for one that has it
  candidates = {by_name[ARGV[6]]}
  if candidates[1] == nil then
    return no_room()
  end
end
local up = pick_upstream(q, candidates, now)
if up == nil then
  return no_room()
end
take_room(q, up, ARGV[5], now, ARGV[2])
return up.name
