-- KEYS[1] the active experiment, KEYS[2] the records hash. ARGV: id, config JSON, now.
-- The experiment active before (another id) is stopped; an id started before keeps its start time.
-- Returns the new record's JSON.
local id, config, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local cur = redis.call('GET', KEYS[1])
if cur then
  local c = cjson.decode(cur)
  if c.config.id ~= id then
    c.stoppedAt = now
    redis.call('HSET', KEYS[2], c.config.id, cjson.encode(c))
  end
end
local startedAt = now
local old = redis.call('HGET', KEYS[2], id)
if old then startedAt = cjson.decode(old).startedAt end
local rec = '{"config":' .. config .. ',"startedAt":' .. string.format('%d', startedAt) .. '}'
redis.call('SET', KEYS[1], rec)
redis.call('HSET', KEYS[2], id, rec)
return rec
