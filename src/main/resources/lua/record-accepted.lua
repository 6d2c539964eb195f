-- The upstream took a job, where one Redis holds both its task's partition and the job queue (not a
-- Cluster): the task runs (after-send.lua with 'running') and the queue settles the send as
-- accepted (settle-job.lua) — one step where those would be two. Answers 0 when the task was not
-- being sent (its fields then unchanged; the send is settled all the same), else 1.
--- @include "lib/sent"
--- @include "lib/job-line"
-- KEYS[1] the waiting accounts, KEYS[2] task hash, KEYS[3] task due set, KEYS[4] event stream,
-- KEYS[5] running tasks per upstream
-- ARGV[1] task id, ARGV[2] first poll (ms), ARGV[3] stream max length, ARGV[4] the event's data
-- ('' = none), ARGV[5] now (ms), ARGV[6] queue key prefix, ARGV[7] upstream, ARGV[8] when the task's
-- room lapses unless renewed (ms; '' for an upstream without a max in flight), ARGV[9..] the task's
-- field/value pairs
local t = {hash = KEYS[2], due = KEYS[3], stream = KEYS[4], running = KEYS[5]}
local started = after_send(t, ARGV[1], 'running', ARGV[2], ARGV[3], ARGV[4], 9, #ARGV)
settle_job(ARGV[6], tonumber(ARGV[5]), ARGV[1], ARGV[7], 'accepted', ARGV[8])
return started
