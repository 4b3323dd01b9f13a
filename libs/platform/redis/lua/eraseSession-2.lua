--[[
  Erases one session linked to a deleted user, on the session's slot (see eraseUser-5.lua): its
  window and its link to the user, when the link is to that user (a session that merged into
  another user is that user's, left alone).

  Input:
    KEYS[1]  the session's merged marker  (RedisKeys.sessionMergedInto: "<0|1>:<userId>")
    KEYS[2]  the session's window         (RedisKeys.sessionSequence)
    ARGV[1]  the deleted user's id

  Output: the number of keys deleted (0: not linked to that user)
]]
local rcall = redis.call
local marker = rcall("GET", KEYS[1])
if not marker or string.sub(marker, 3) ~= ARGV[1] then return 0 end
return rcall("DEL", KEYS[1], KEYS[2])
