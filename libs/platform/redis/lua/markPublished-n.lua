--[[
  Marks claims as published (see claimEvents-n.lua): run once the Kafka transaction that published
  their events committed. A claim still held by the given source becomes "p:<source>" with its TTL
  kept; a claim held by another source, already marked, or expired is left alone.

  Input (variadic: the caller passes the number of keys; all keys share one hash tag):
    KEYS[1..n]   claim keys (RedisKeys.eventSeen)
    ARGV[1..n]   the source that published KEYS[i]

  Output: the number of claims marked
]]
local rcall = redis.call
local marked = 0
for i = 1, #KEYS do
  local source = ARGV[i]
  if rcall("GET", KEYS[i]) == source then
    rcall("SET", KEYS[i], "p:" .. source, "KEEPTTL", "XX")
    marked = marked + 1
  end
end
return marked
