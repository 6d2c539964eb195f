-- A new job where one Redis holds both its task's partition and the job queue (not a Cluster): takes
-- upstream room for it and stores its task as being sent, or, when it must wait, stores its task as
-- waiting (task.submitted appended) and puts the job at the end of its account's line — one step
-- where reserve-room, create-task and enqueue-job would be three. Answers the upstream's name when
-- the job goes at once, else its place in the line (1 = next).
--- @include "lib/job-line"
--- @include "lib/new-task"
-- KEYS[1] the waiting accounts, KEYS[2..8] the task's keys as create-task.lua has them
-- ARGV[1] now (ms), ARGV[2] when the room lapses unless the job is answered, and the watchdog of the
-- task being sent (ms), ARGV[3] queue key prefix, ARGV[4] account, ARGV[5] task id, ARGV[6] the
-- upstream it must go to ('' = any), ARGV[7] the watchdog of a waiting task (its deadline, ms),
-- ARGV[8] stream max length, ARGV[9] task.submitted's data, appended when the job waits,
-- ARGV[10] oldest listed (ms), ARGV[11] n, the count of ARGV entries of the job's field/value pairs
-- that follow, ARGV[12 .. 11 + n]; then the upstreams (lib/upstream-room.lua), then the task's
-- field/value pairs, all but its queue phase
local q, id, account = ARGV[3], ARGV[5], ARGV[4]
local job_from, job_to = 12, 11 + tonumber(ARGV[11])
local ups_from = job_to + 1
local task_from = ups_from + 1 + 4 * tonumber(ARGV[ups_from])
local t = {hash = KEYS[2], due = KEYS[3], pending = KEYS[4], stream = KEYS[5], list = KEYS[6], listed = KEYS[7],
           legacy = KEYS[8]}
if redis.call('EXISTS', t.hash) == 1 then
  return redis.error_reply('ERR task id ' .. id .. ' is taken')
end
local up = reserve_room(q, tonumber(ARGV[1]), ARGV[2], account, id, ARGV[6], ups_from)
if up then
  new_task(t, id, ARGV[2], account, ARGV[8], '', ARGV[10], task_from, #ARGV)
  redis.call('HSET', t.hash, TASK.QUEUE, TASK_QUEUE.SENDING)
  return up
end
new_task(t, id, ARGV[7], account, ARGV[8], ARGV[9], ARGV[10], task_from, #ARGV)
redis.call('HSET', t.hash, TASK.QUEUE, TASK_QUEUE.WAITING)
return enqueue_job(q, id, account, false, job_from, job_to)
