--[[
  Counts one events-topic partition's item events into the live trending set, exactly once: the
  state hash keeps the last offset counted per partition, and events at or below it (a redelivered
  batch, or the part of one that was counted) are skipped.

  Counts decay exponentially with a half-life h: an event at time t adds 2^((t - epoch) / h) to its
  item's score, so every score is the decayed count times the same factor 2^((now - epoch) / h)
  and the order of the set is the order of the decayed counts without touching old members. When
  an exponent passes 64 the set is renormalised: only the ARGV[3] best members are kept, every
  score is multiplied by 2^(-shift), the epoch moves forward by shift * h, and members whose decayed
  count fell below 2^-30 are removed (O(kept members), once every 64 half-lives).

  Input:
    KEYS[1]  sorted set item id -> scaled count   (RedisKeys.trendingItems)
    KEYS[2]  hash: epoch, p<partition> -> offset   (RedisKeys.trendingState)
    ARGV[1]  the partition
    ARGV[2]  the half-life, seconds
    ARGV[3]  members kept by a renormalisation (the best ones)
    ARGV[4..] triples: offset, event time (epoch seconds), item id; offsets ascending

  Output:
    the number of events counted
]]
local rcall = redis.call
local field = "p" .. ARGV[1]
local last = tonumber(rcall("HGET", KEYS[2], field) or "-1")
local epoch = tonumber(rcall("HGET", KEYS[2], "epoch") or "")
local half = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
local counted = 0
local top = last
for i = 4, #ARGV, 3 do
  local offset = tonumber(ARGV[i])
  if offset > last then
    local t = tonumber(ARGV[i + 1])
    if not epoch then
      epoch = t
      rcall("HSET", KEYS[2], "epoch", epoch)
    end
    local e = (t - epoch) / half
    if e > 64 then
      local shift = math.floor(e)
      local scale = 2 ^ (-shift)
      rcall("ZREMRANGEBYRANK", KEYS[1], 0, -keep - 1)
      local all = rcall("ZRANGE", KEYS[1], 0, -1, "WITHSCORES")
      for j = 1, #all, 2 do
        local s = tonumber(all[j + 1]) * scale
        if s < 2 ^ -30 then
          rcall("ZREM", KEYS[1], all[j])
        else
          rcall("ZADD", KEYS[1], s, all[j])
        end
      end
      epoch = epoch + shift * half
      rcall("HSET", KEYS[2], "epoch", epoch)
      e = e - shift
    end
    rcall("ZINCRBY", KEYS[1], 2 ^ e, ARGV[i + 2])
    counted = counted + 1
    if offset > top then top = offset end
  end
end
if top > last then rcall("HSET", KEYS[2], field, top) end
return counted
