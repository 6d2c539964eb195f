-- Takes a waiting job out of its account's line (cancelled, or its task ended at its deadline).
-- Answers 1 when it was waiting there.
--- @include "lib/waiting-line"
-- KEYS[1] the waiting accounts
-- ARGV[1] queue key prefix, ARGV[2] task id
local q, id = ARGV[1], ARGV[2]
local account = redis.call('HGET', job_key(q, id), JOB.ACCOUNT)
if account == false then
  return 0
end
redis.call('DEL', job_key(q, id))
local removed = redis.call('LREM', line_key(q, account), 1, id)
if redis.call('LLEN', line_key(q, account)) == 0 then
  redis.call('ZREM', KEYS[1], account)
end
return removed
