-- How many entries of an event stream one sink's consumer group has not forwarded yet: those it
-- holds pending plus those it has not read. Redis 7 keeps the unread count ('lag'); Redis 6.2 does
-- not, and they are counted, up to ARGV[2].
-- KEYS[1] the stream; ARGV[1] the group, ARGV[2] the most unread entries counted on Redis 6.2
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #flat, 2 do
    info[flat[i]] = flat[i + 1]
  end
  if info['name'] == ARGV[1] then
    local pending = tonumber(info['pending'])
    if type(info['lag']) == 'number' then
      return pending + info['lag']
    end
    local unread = redis.call('XRANGE', KEYS[1], '(' .. info['last-delivered-id'], '+', 'COUNT', tonumber(ARGV[2]))
    return pending + #unread
  end
end
return redis.call('XLEN', KEYS[1])
