-- Records how a job's send ended (lib/job-line.lua, settle_job).
--- @include "lib/job-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] now (ms), ARGV[2] queue key prefix, ARGV[3] task id, ARGV[4] upstream, ARGV[5] outcome,
-- ARGV[6] when an accepted task's room lapses unless renewed (ms; '' for an upstream without a max in flight)
return settle_job(ARGV[2], tonumber(ARGV[1]), ARGV[3], ARGV[4], ARGV[5], ARGV[6])
