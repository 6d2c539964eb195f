-- Stores a new task (lib/new-task.lua).
--- @include "lib/new-task"
-- KEYS[1] task hash, KEYS[2] task due set, KEYS[3] pending counts per account, KEYS[4] event stream,
-- KEYS[5] the account's task list in the partition, KEYS[6] the partition's popped counts of those
-- lists, KEYS[7] the account's task set of relays before the list
-- ARGV[1] task id, ARGV[2] due at (ms), ARGV[3] account, ARGV[4] stream max length,
-- ARGV[5] the event's data (JSON, '' for none yet), ARGV[6] oldest listed (ms), ARGV[7..] task
-- field/value pairs
local t = {hash = KEYS[1], due = KEYS[2], pending = KEYS[3], stream = KEYS[4], list = KEYS[5], listed = KEYS[6],
           legacy = KEYS[7]}
return new_task(t, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], 7, #ARGV)
