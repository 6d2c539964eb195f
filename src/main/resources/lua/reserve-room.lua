-- Takes upstream room for a job sent at once (lib/job-line.lua, reserve_room).
--- @include "lib/job-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] now (ms), ARGV[2] when the room lapses unless the job is answered (ms), ARGV[3] queue key
-- prefix, ARGV[4] account, ARGV[5] task id, ARGV[6] the upstream it must go to ('' = any),
-- ARGV[7..] the upstreams
return reserve_room(ARGV[3], tonumber(ARGV[1]), ARGV[2], ARGV[4], ARGV[5], ARGV[6], 7)
