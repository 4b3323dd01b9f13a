--[[
  Looks up, or allocates, dense indices for external item ids.

  Input:
    KEYS[1]  hash item id -> index   (RedisKeys.itemIndex)
    KEYS[2]  hash index -> item id   (RedisKeys.itemIds)
    KEYS[3]  counter of allocated indices (RedisKeys.itemCounter)
    ARGV[1..n]  item ids

  Output:
    array of n indices (0-based), in ARGV order; new ids get the next free index.
]]
local rcall = redis.call
local out = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  local idx = rcall("HGET", KEYS[1], id)
  if idx == false then
    idx = rcall("INCR", KEYS[3]) - 1
    rcall("HSET", KEYS[1], id, idx)
    rcall("HSET", KEYS[2], idx, id)
  else
    idx = tonumber(idx)
  end
  out[i] = idx
end
return out
