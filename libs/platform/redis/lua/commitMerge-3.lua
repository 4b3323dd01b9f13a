--[[
  Step 2 of a session merge (only when the session has events to merge): on the user's slot. Writes
  the user's window with the session's events merged in (computed by the caller from the window it
  read: compare-and-set) and adds the merge to the user's merged sessions, atomically: a merge is applied to the user's window once, however
  often the login is redelivered or the builder crashes between the steps.

  Input:
    KEYS[1]  the user's window                  (RedisKeys.userSequence)
    KEYS[2]  the user's merged sessions (a set) (RedisKeys.userMergedSessions)
    KEYS[3]  the user's deletion marker         (RedisKeys.userDeleted)
    ARGV[1]  the merge id, "<sessionId>@<partition>:<offset>" (the session's final window's
             watermark): a redelivered merge has the same one; a session anonymous again after
             its link expired has another window, hence another id, and merges again
    ARGV[2]  the user's window the new one was computed from; empty string: the user had none
    ARGV[3]  the new user window
    ARGV[4]  TTL in ms of both keys; "0": no expiry
    ARGV[5]  the deletion time (epoch ms) the caller dropped the user's events against; empty: none

  Output:
     1  merged
     0  merged before (the merge id is in the set): nothing written
    -1  conflict: the user's window is not ARGV[2] any more; nothing written (read again, retry)
    -5  deleted: the user objects, or was deleted after ARGV[5]; nothing written
]]
local rcall = redis.call
if rcall("SISMEMBER", KEYS[2], ARGV[1]) == 1 then return 0 end
local marker = rcall("GET", KEYS[3])
if marker then
  if string.sub(marker, 1, 2) == "o:" then return -5 end
  local known = tonumber(ARGV[5])
  if known == nil or tonumber(marker) > known then return -5 end
end
local ttl = tonumber(ARGV[4])
local current = rcall("GET", KEYS[1])
if current == false then
  if ARGV[2] ~= "" then return -1 end
elseif current ~= ARGV[2] then
  return -1
end
if ttl and ttl > 0 then
  rcall("SET", KEYS[1], ARGV[3], "PX", ttl)
else
  rcall("SET", KEYS[1], ARGV[3])
end
rcall("SADD", KEYS[2], ARGV[1])
if ttl and ttl > 0 then rcall("PEXPIRE", KEYS[2], ttl) end
return 1
