-- Puts a job in its account's line (lib/job-line.lua, enqueue_job).
--- @include "lib/job-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] queue key prefix, ARGV[2] task id, ARGV[3] account, ARGV[4] '1' for the head,
-- ARGV[5..] the job's field/value pairs
return enqueue_job(ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', 5, #ARGV)
