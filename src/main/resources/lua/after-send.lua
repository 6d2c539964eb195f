-- Records what came of sending a job (lib/sent.lua, after_send).
--- @include "lib/sent"
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] event stream, KEYS[4] running tasks per upstream
-- ARGV[1] task id, ARGV[2] 'running' or TASK_QUEUE.WAITING, ARGV[3] first poll (ms; ignored when
-- waiting), ARGV[4] stream max length, ARGV[5] the event's data ('' = none), ARGV[6..] field/value pairs
local t = {hash = KEYS[1], due = KEYS[2], stream = KEYS[3], running = KEYS[4]}
return after_send(t, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 6, #ARGV)
