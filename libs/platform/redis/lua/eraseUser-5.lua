--[[
  Erases a deleted (or objecting) user's state on the user's slot (right to be forgotten, see
  docs/privacy.md): sets the deletion marker and deletes the window, the vector and the merged
  sessions, and hands back the sessions linked to the user (the caller erases each on its own
  slot with eraseSession-2). Idempotent and safe to replay:
  - a deletion the marker already covers (same or later time) does nothing: a replayed deletions
    topic never deletes the state of a user who came back after it;
  - with no marker, a deletion older than the marker's lifetime does nothing either (it was
    applied and its marker expired: no event it covers can still be in flight);
  - an objection always applies (its marker has no TTL), a later deletion replaces it (the
    objection withdrawn: a deletion marker with a TTL).

  Input:
    KEYS[1]  the user's window            (RedisKeys.userSequence)
    KEYS[2]  the user's vector            (RedisKeys.userVector)
    KEYS[3]  the user's merged sessions   (RedisKeys.userMergedSessions; members "<sessionId>@<p>:<o>")
    KEYS[4]  the user's logins            (RedisKeys.userLogins; members: session ids)
    KEYS[5]  the user's deletion marker   (RedisKeys.userDeleted)
    ARGV[1]  the deletion's time, epoch ms
    ARGV[2]  "1": an objection; "0": a deletion
    ARGV[3]  TTL of a deletion marker, ms; "0": no expiry
    ARGV[4]  now, epoch ms

  Output:
    {0}                                  nothing done (covered, or too old)
    {1, keysDeleted, m, merge1..mergeM, login1, ...}  erased: the m members of KEYS[3] (merge ids:
                                         the caller takes the session id out of each), then the
                                         members of KEYS[4] (session ids as they are)
]]
local rcall = redis.call
local at = tonumber(ARGV[1])
local objection = ARGV[2] == "1"
local ttl = tonumber(ARGV[3])
local marker = rcall("GET", KEYS[5])
if marker then
  local mobj = string.sub(marker, 1, 2) == "o:"
  local mat = tonumber(mobj and string.sub(marker, 3) or marker)
  if not (at > mat or (at == mat and objection and not mobj)) then return {0} end
elseif not objection and ttl > 0 and at <= tonumber(ARGV[4]) - ttl then
  return {0}
end

if objection then
  rcall("SET", KEYS[5], "o:" .. ARGV[1])
elseif ttl > 0 then
  rcall("SET", KEYS[5], ARGV[1], "PX", ttl)
else
  rcall("SET", KEYS[5], ARGV[1])
end
local merges = rcall("SMEMBERS", KEYS[3])
local out = {1, 0, #merges}
for _, m in ipairs(merges) do out[#out + 1] = m end
for _, m in ipairs(rcall("SMEMBERS", KEYS[4])) do out[#out + 1] = m end
out[2] = rcall("DEL", KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return out
