--[[
  Step 1 of merging an anonymous session's window into a user's (a login): on the session's slot.
  Records the session -> user link and closes the session's window to new events (writeWindow-n
  refuses them while the marker exists: they go to the user), then hands back the window as it is
  now, final. Idempotent: a redelivered login finds its own marker and gets the same window again.

  The marker's value is "<state>:<userId>", state "0" while the merge is under way and "1" once
  endMerge-2 found it applied to the user's window and deleted the session's window.

  Input:
    KEYS[1]  the session's merged marker   (RedisKeys.sessionMergedInto)
    KEYS[2]  the session's window          (RedisKeys.sessionSequence)
    ARGV[1]  the user id
    ARGV[2]  TTL of the marker in ms (the session window's); "0": no expiry. The marker must live
             as long as anonymous events of the session may still arrive: it also closes the
             session when the login is applied before the session's earlier events (another
             partition). A session that is anonymous again after it expired gets a window of its
             own, merged by its next login (its merge id differs, see commitMerge-3).

  Output:
    {1}          merging, the session has no window (nothing to write: step 2 is skipped)
    {1, window}  merging: the session's final window
    {0}          this merge was done before: nothing to do
    {-4, userId} the session merged into another user before: first login wins, nothing to do
]]
local rcall = redis.call
local marker = rcall("GET", KEYS[1])
if marker then
  local owner = string.sub(marker, 3)
  if owner ~= ARGV[1] then return {-4, owner} end
  if string.sub(marker, 1, 1) == "1" then return {0} end
else
  local ttl = tonumber(ARGV[2])
  if ttl and ttl > 0 then
    rcall("SET", KEYS[1], "0:" .. ARGV[1], "PX", ttl)
  else
    rcall("SET", KEYS[1], "0:" .. ARGV[1])
  end
end
local window = rcall("GET", KEYS[2])
if window then return {1, window} end
return {1}
