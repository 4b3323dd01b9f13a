-- KEYS[1] the active experiment, KEYS[2] the records hash. ARGV: id, now. Returns 1 when it was active.
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local c = cjson.decode(cur)
if c.config.id ~= ARGV[1] then return 0 end
c.stoppedAt = tonumber(ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(c))
redis.call('DEL', KEYS[1])
return 1
