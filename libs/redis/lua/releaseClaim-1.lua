--[[
  Releases a claim on an event id, only if the caller holds it.

  Input:
    KEYS[1]  the claim key (RedisKeys.eventSeen)
    ARGV[1]  the source that claimed it

  Output:
    1 released, 0 not held by this source (expired or claimed by another)
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
