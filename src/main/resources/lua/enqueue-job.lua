-- Puts a job in its account's line: at the end, or at the head for a job that was in front of the
-- line all along (sent at once, and the upstream was busy). Answers its place in the line (1 = next).
-- A job already there stays where it is. A submit's request puts its job in line only with leave
-- (lib/waiting-line.lua, admit): without it, Redis ran this too late, and it answers -1.
--- @include "lib/waiting-line"
--- @include "lib/pieces"
-- KEYS[1] the waiting accounts
-- ARGV[1] queue key prefix, ARGV[2] task id, ARGV[3] account, ARGV[4] '1' for the head,
-- ARGV[5] '1' for a submit's request, which needs leave, ARGV[6..] the job's field/value pairs
local q, id, account = ARGV[1], ARGV[2], ARGV[3]
if ARGV[5] == '1' and not admitted(q, id) then
  return -1
end
if redis.call('EXISTS', job_key(q, id)) == 1 then
  -- already put in line (a client's retry and the request it repeats both got here): once is enough;
  -- 0 when it has been claimed since
  local at = redis.call('LPOS', line_key(q, account), id)
  return at and at + 1 or 0
end
redis.call('HSET', job_key(q, id), JOB.ACCOUNT, account)
set_fields(job_key(q, id), JOB_PIECED, 6, #ARGV)
join_line(q, account)
if ARGV[4] == '1' then
  redis.call('LPUSH', line_key(q, account), id)
  return 1
end
return redis.call('RPUSH', line_key(q, account), id)
