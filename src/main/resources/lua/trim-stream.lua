-- Trims an event stream to about max_len entries, never past an entry one of the event sinks'
-- consumer groups has not acknowledged: for each group the first entry it must still forward is its
-- oldest pending one, or else the first it has not read. Trims at most 10,000 entries a call, so a
-- stream that grew while a broker was down shrinks over a few calls, not in one long one.
-- KEYS[1] the stream; ARGV[1] max length, ARGV[2..] the sinks' group names
-- Answers the number of entries removed.
local function older(a, b) -- whether stream id a comes before b
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, bms = tonumber(ams), tonumber(bms)
  if ams ~= bms then
    return ams < bms
  end
  return tonumber(aseq) < tonumber(bseq)
end

local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then
  return 0
end
excess = math.min(excess, 10000)
local wanted = {}
for i = 2, #ARGV do
  wanted[ARGV[i]] = true
end
local found = 0
local keep = nil -- the first entry some group still needs
for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #flat, 2 do
    info[flat[i]] = flat[i + 1]
  end
  if wanted[info['name']] then
    found = found + 1
    local first = nil
    if tonumber(info['pending']) > 0 then
      first = redis.call('XPENDING', KEYS[1], info['name'])[2]
    else
      local unread = redis.call('XRANGE', KEYS[1], '(' .. info['last-delivered-id'], '+', 'COUNT', 1)
      if #unread > 0 then
        first = unread[1][1]
      end
    end
    if first and (keep == nil or older(first, keep)) then
      keep = first
    end
  end
end
if found < #ARGV - 1 then
  return 0 -- a sink's group is not there yet: nothing is known to be forwarded
end
local before
if keep then
  before = redis.call('XRANGE', KEYS[1], '-', '(' .. keep, 'COUNT', excess + 1)
else
  before = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess + 1)
end
local boundary = keep
if #before > excess then
  boundary = before[excess + 1][1]
end
if boundary == nil then
  return 0
end
return redis.call('XTRIM', KEYS[1], 'MINID', boundary)
