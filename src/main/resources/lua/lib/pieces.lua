-- Long values in pieces. Redis keeps a hash compact (a listpack: a few bytes a field) only while
-- every value is at most hash-max-listpack-value bytes, 64 by default; one longer value turns the
-- whole hash into a hashtable, about 1 KB more for a task's 20 fields. So a value of a field that
-- may be long (TASK_PIECED, JOB_PIECED: the prompt, the callback URL, the upstream's answer...) is
-- stored in pieces of PIECE_BYTES: the first under the field's own name, the next ones under
-- '<name>+1', '<name>+2', ... A value of PIECE_BYTES or less is stored whole, as it always was,
-- and so is one longer than PIECED_MAX_BYTES (its pieces would pass the listpack's field count).
-- A reader joins the pieces (get_pieced here, store/Pieces.java for the Java side); a value stored
-- whole by a relay before this reads the same. With PIECE_LONG_VALUES false (relay.store.piece-long-
-- values, for a rolling update from relays that do not read pieces) every value is stored whole.
local PIECE_BYTES = 64
local PIECED_MAX_BYTES = 4096

-- Sets one field; in pieces when it is one of `pieced` and long. Pieces left over from a longer
-- value set before are removed, unless the hash is `fresh` (created by this script).
local function set_field(key, pieced, field, value, fresh)
  local extra = 0
  if PIECE_LONG_VALUES and pieced[field] and #value > PIECE_BYTES and #value <= PIECED_MAX_BYTES then
    local args = {field, string.sub(value, 1, PIECE_BYTES)}
    local at = PIECE_BYTES + 1
    while at <= #value do
      extra = extra + 1
      args[#args + 1] = field .. '+' .. extra
      args[#args + 1] = string.sub(value, at, at + PIECE_BYTES - 1)
      at = at + PIECE_BYTES
    end
    redis.call('HSET', key, unpack(args))
  else
    redis.call('HSET', key, field, value)
  end
  if pieced[field] and not fresh then
    local stale = extra + 1
    while redis.call('HDEL', key, field .. '+' .. stale) == 1 do
      stale = stale + 1
    end
  end
end

-- Sets the field/value pairs ARGV[from .. to] (see set_field): the fields never pieced in one HSET,
-- ahead of the pieced ones, so the fields the polls read sit early in the listpack.
local function set_fields(key, pieced, from, to, fresh)
  local whole = {}
  for i = from, to - 1, 2 do
    if not pieced[ARGV[i]] then
      whole[#whole + 1] = ARGV[i]
      whole[#whole + 1] = ARGV[i + 1]
    end
  end
  if #whole > 0 then
    redis.call('HSET', key, unpack(whole))
  end
  for i = from, to - 1, 2 do
    if pieced[ARGV[i]] then
      set_field(key, pieced, ARGV[i], ARGV[i + 1], fresh)
    end
  end
end

-- A field's value with its pieces joined; false when the field is not set. A value set_field cut
-- has a first piece of exactly PIECE_BYTES, so only such a one is looked at further, unless the
-- field holds `appended` entries (append_piece), whose first piece may be of any length.
local function get_pieced(key, field, appended)
  local value = redis.call('HGET', key, field)
  if not value or (#value ~= PIECE_BYTES and not appended) then
    return value
  end
  local parts = {value}
  local more = redis.call('HGET', key, field .. '+1')
  while more do
    parts[#parts + 1] = more
    more = redis.call('HGET', key, field .. '+' .. #parts)
  end
  return table.concat(parts)
end

-- Appends one entry to a pieced field that lists short entries (a note per event): the first is
-- the field's value, each later one a piece of its own behind `separator`, so the joined value is
-- the entries with `separator` between them, as a whole value stored by a relay before reads.
local function append_piece(key, field, entry, separator)
  if redis.call('HSETNX', key, field, entry) == 1 then
    return
  end
  if not PIECE_LONG_VALUES then
    local whole = get_pieced(key, field, true)
    set_field(key, {[field] = true}, field, whole .. separator .. entry)
    return
  end
  local n = 1
  while redis.call('HEXISTS', key, field .. '+' .. n) == 1 do
    n = n + 1
  end
  redis.call('HSET', key, field .. '+' .. n, separator .. entry)
end
