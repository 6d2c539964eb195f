-- Claims the due items of one partition of a due-queue (task polls, webhook deliveries): each
-- claimed item's score moves to the end of the lease, so no other replica takes it meanwhile, and a
-- replica that dies mid-work loses nothing: the item is due again when the lease runs out. Items
-- whose record is gone, or no longer live, are dropped from the queue.
-- KEYS[1] the due set
-- ARGV[1] now (ms), ARGV[2] most items to claim, ARGV[3] lease end (ms), ARGV[4] record key prefix,
-- ARGV[5] the field that says an item is live, ARGV[6] the value it must have ('' = any value),
-- ARGV[7] the field the lease's end is written to ('' = none), ARGV[8..] the record's fields to
-- answer, in the caller's order
-- Answers the earliest due time left in the set ('' when empty), then per item its id and the values
-- of the fields asked for ('' for an unset one).
-- The live field is read with the fields asked for, in one HMGET (a call from a script costs Redis a
-- few microseconds beyond its own work), before the lease is written: none of them is its field.
local fields = {ARGV[5]}
for i = 8, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', '0', ARGV[2])
local claimed = {''}
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  local values = redis.call('HMGET', key, unpack(fields))
  local live = values[1]
  if live == false or (ARGV[6] ~= '' and live ~= ARGV[6]) then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    if ARGV[7] ~= '' then
      redis.call('HSET', key, ARGV[7], ARGV[3])
    end
    claimed[#claimed + 1] = id
    for i = 2, #fields do
      claimed[#claimed + 1] = values[i] or ''
    end
  end
end
local first = redis.call('ZRANGE', KEYS[1], '0', '0', 'WITHSCORES')
if first[2] then
  claimed[1] = first[2]
end
return claimed
