--[[
  Step 3 of a session merge, after commitMerge-3 answered 1 or 0: on the session's slot. Deletes the
  session's window (its events are in the user's now) and marks the merge done, so later events
  carrying both ids skip the merge in one call. Idempotent.

  Input:
    KEYS[1]  the session's merged marker   (RedisKeys.sessionMergedInto)
    KEYS[2]  the session's window          (RedisKeys.sessionSequence)
    ARGV[1]  the user id

  Output:
    1  done (now or before)
    0  the marker names no merge into this user (expired, or deleted); nothing done
]]
local rcall = redis.call
local marker = rcall("GET", KEYS[1])
if not marker or string.sub(marker, 3) ~= ARGV[1] then return 0 end
if string.sub(marker, 1, 1) == "0" then
  rcall("SET", KEYS[1], "1:" .. ARGV[1], "KEEPTTL")
  rcall("DEL", KEYS[2])
end
return 1
