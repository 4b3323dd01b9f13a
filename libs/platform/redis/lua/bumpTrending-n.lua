--[[
  Counts one events-topic partition's item events into the live trending sets, exactly once: the
  state hash keeps the last offset counted per partition, and events at or below it (a redelivered
  batch, or the part of one that was counted) are skipped. Every event counts in the overall set
  and, when it names one, in its item's top-level category's set.

  Counts decay exponentially with a half-life h: an event at time t adds 2^((t - epoch) / h) to its
  item's score, so every score is the decayed count times the same factor 2^((now - epoch) / h)
  and the order of the set is the order of the decayed counts without touching old members. Each
  set has its own epoch (field `epoch` for the overall set, `epoch:<set key>` for a category's).
  When an exponent passes 64 the set is renormalised: only the ARGV[3] best members are kept, every
  score is multiplied by 2^(-shift), the epoch moves forward by shift * h, and members whose
  decayed count fell below 2^-30 are removed (O(kept members), once every 64 half-lives).

  Input (the caller passes the number of keys first):
    KEYS[1]   hash: epoch, epoch:<set key>, p<partition> -> offset   (RedisKeys.trendingState)
    KEYS[2]   sorted set item id -> scaled count, overall             (RedisKeys.trendingItems())
    KEYS[3..] sorted sets of the categories this batch touches        (RedisKeys.trendingItems('cat:<category>'))
    ARGV[1]  the partition
    ARGV[2]  the half-life, seconds
    ARGV[3]  members kept by a renormalisation (the best ones)
    ARGV[4..] quadruples: offset, event time (epoch seconds), item id, category set (0: none, else
              the index j >= 3 of its KEYS[j]); offsets ascending

  Output:
    the number of events counted
]]
local rcall = redis.call
local state = KEYS[1]
local field = "p" .. ARGV[1]
local last = tonumber(rcall("HGET", state, field) or "-1")
local half = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
local epochs = {}

local function bump(j, t, item)
  local key = KEYS[j]
  local ef = "epoch"
  if j > 2 then ef = "epoch:" .. key end
  local epoch = epochs[j]
  if epoch == nil then epoch = tonumber(rcall("HGET", state, ef) or "") end
  if not epoch then
    epoch = t
    rcall("HSET", state, ef, epoch)
  end
  local e = (t - epoch) / half
  if e > 64 then
    local shift = math.floor(e)
    local scale = 2 ^ (-shift)
    rcall("ZREMRANGEBYRANK", key, 0, -keep - 1)
    local all = rcall("ZRANGE", key, 0, -1, "WITHSCORES")
    for i = 1, #all, 2 do
      local s = tonumber(all[i + 1]) * scale
      if s < 2 ^ -30 then
        rcall("ZREM", key, all[i])
      else
        rcall("ZADD", key, s, all[i])
      end
    end
    epoch = epoch + shift * half
    rcall("HSET", state, ef, epoch)
    e = e - shift
  end
  epochs[j] = epoch
  rcall("ZINCRBY", key, 2 ^ e, item)
end

local counted = 0
local top = last
for i = 4, #ARGV, 4 do
  local offset = tonumber(ARGV[i])
  if offset > last then
    local t = tonumber(ARGV[i + 1])
    bump(2, t, ARGV[i + 2])
    local c = tonumber(ARGV[i + 3])
    if c >= 3 then bump(c, t, ARGV[i + 2]) end
    counted = counted + 1
    if offset > top then top = offset end
  end
end
if top > last then rcall("HSET", state, field, top) end
return counted
