-- Claims the deliveries of one partition whose next attempt is due, behind a lease like
-- claim-due.lua: a dispatcher that dies mid-attempt loses nothing.
-- KEYS[1] delivery due set
-- ARGV[1] now (ms), ARGV[2] most deliveries to claim, ARGV[3] lease end (ms), ARGV[4] delivery key prefix
-- Returns a flat list: the earliest due time left in the set ('' when empty), then per delivery: id,
-- taskId, account, webhookId, type, target, secret, attempt, body, createdAt.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {''}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ARGV[4] .. id,
    'taskId', 'account', 'webhookId', 'type', 'target', 'secret', 'attempt', 'body', 'createdAt', 'state')
  if f[1] == false or f[10] ~= 'pending' then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    claimed[#claimed + 1] = id
    for i = 1, 9 do
      claimed[#claimed + 1] = f[i] or ''
    end
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then
  claimed[1] = first[2]
end
return claimed
