--[[
  Compare-and-set of one user's or session's encoded behaviour window (format: @seqrec/window
  codec.ts). Called with two keys: the window and its guard (a session's merged marker, a user's
  deletion marker).

  Input:
    KEYS[1]  the window key                   (RedisKeys.userSequence or .sessionSequence)
    KEYS[2]  a session's merged marker        (RedisKeys.sessionMergedInto), or a user's deletion
             marker                           (RedisKeys.userDeleted: "<at>" or "o:<at>")
    ARGV[1]  the value the new one was computed from; empty string: the key must not exist
    ARGV[2]  the new encoded window
    ARGV[3]  TTL in ms for the key; "0": no expiry
    ARGV[4]  "1": the stored value is a corrupt window being rebuilt (its header is not trusted:
             no watermark guard); "0": normal write
    ARGV[5]  "s": a session's window; "u": a user's
    ARGV[6]  users: the deletion time (epoch ms) the caller dropped the user's events against;
             empty: the caller knew of no deletion

  Output:
     1  written
    -1  conflict: the stored value is not ARGV[1] (someone else wrote meanwhile); nothing written
    -3  merged: the session merged into a user (KEYS[2] exists); its events belong to that user's
        window now; nothing written
    -5  deleted: the user's marker is an objection, or a deletion later than ARGV[6] (the caller
        may hold events stamped before it); nothing written
    -2  stale: the new window's watermark does not move forward (same partition, offset not
        greater); nothing written. A correct caller never sees this; it guards against bugs.
]]
local rcall = redis.call
if ARGV[5] == "s" then
  if rcall("EXISTS", KEYS[2]) == 1 then return -3 end
else
  local marker = rcall("GET", KEYS[2])
  if marker then
    if string.sub(marker, 1, 2) == "o:" then return -5 end
    local known = tonumber(ARGV[6])
    if known == nil or tonumber(marker) > known then return -5 end
  end
end
local current = rcall("GET", KEYS[1])
local expected = ARGV[1]

if current == false then
  if expected ~= "" then return -1 end
elseif current ~= expected then
  return -1
end

-- header: byte 1 version, bytes 2-3 partition (uint16 BE), bytes 4-9 offset (uint48 BE)
local function watermark(v)
  local p1, p2, o1, o2, o3, o4, o5, o6 = string.byte(v, 2, 9)
  local partition = p1 * 256 + p2
  local offset = ((((o1 * 256 + o2) * 256 + o3) * 256 + o4) * 256 + o5) * 256 + o6
  return partition, offset
end

local nextValue = ARGV[2]
if current ~= false and ARGV[4] ~= "1" and #current >= 9 and #nextValue >= 9 then
  local cp, co = watermark(current)
  local np, no = watermark(nextValue)
  if cp ~= 65535 and cp == np and no <= co then return -2 end
end

local ttl = tonumber(ARGV[3])
if ttl and ttl > 0 then
  rcall("SET", KEYS[1], nextValue, "PX", ttl)
else
  rcall("SET", KEYS[1], nextValue)
end
return 1
