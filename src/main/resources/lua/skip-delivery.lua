-- Skips a pending delivery whose endpoint is disabled or removed: it is not attempted, leaves the due
-- set and shows 'skipped' in its task's delivery log (not dead: nothing failed); a recover sends it
-- again. A delivery no longer pending is left alone.
--- @include "lib/log-attempt"
-- KEYS[1] delivery hash, KEYS[2] delivery due set, KEYS[3] the task's delivery log, KEYS[4] (to a
-- registered endpoint still there only) its attempts here
-- ARGV[1] delivery id, ARGV[2] log entry (JSON), ARGV[3] retention (ms), ARGV[4] now (ms)
if redis.call('HGET', KEYS[1], DLV.STATE) ~= DLV_STATE.PENDING then
  return 0
end
redis.call('HSET', KEYS[1], DLV.STATE, DLV_STATE.SKIPPED, DLV.UPDATED_AT, ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
log_attempt(KEYS[3], ARGV[2], ARGV[3], ARGV[4], KEY_COUNT >= 4 and KEYS[4] or false, ARGV[1])
return 1
