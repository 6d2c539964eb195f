-- Gives back what claims of one partition of a due-queue (task polls, webhook deliveries) still
-- hold though their answers never reached the claimer: Redis ran them after the claimer had given
-- up waiting (a stall longer than a call's time-out, a connection lost with the answer on it), so
-- nobody works on their items. A claim's items are those whose score is still exactly its lease's
-- end (claim-due.lua), which the claimer writes to the microsecond so that no other claim shares
-- it; each becomes due now instead of when the lease runs out. Items scored anew since (their work
-- recorded, a redelivery) are left alone.
-- KEYS[1] the due set; ARGV[1] now (ms), ARGV[2..] lease ends
-- Answers, per lease end, how many items it still held.
local held = {}
for i = 2, #ARGV do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])
  for _, id in ipairs(ids) do
    redis.call('ZADD', KEYS[1], ARGV[1], id)
  end
  held[#held + 1] = #ids
end
return held
