-- KEYS[1] the impression hash (declared for routing: every key of an experiment shares its slot)
-- ARGV: prefix, request id, variant, subject, ts, k, ttl ms, items...
-- Returns {counted (0/1), outcome...}: an impression counts once per request id; feedback that
-- arrived before it (pending under its request id, same subject) is joined now.
local P, rid, variant, subject, ts, k, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local ik = KEYS[1]
if redis.call('EXISTS', ik) == 1 then return {0} end
local fields = {'v', variant, 's', subject, 't', ts, 'c', '0', 'o', '0', 'r', '0'}
local seen = {}
for i = 8, #ARGV do
  local item = ARGV[i]
  if not seen[item] then
    seen[item] = true
    fields[#fields + 1] = 'i:' .. item
    fields[#fields + 1] = tostring(i - 7)
  end
end
redis.call('HSET', ik, unpack(fields))
redis.call('PEXPIRE', ik, ttl)
local sk = P .. 'sub:' .. subject
redis.call('RPUSH', sk, rid)
redis.call('LTRIM', sk, -50, -1)
redis.call('PEXPIRE', sk, ttl)
redis.call('HINCRBY', P .. 'counts:' .. variant, 'impressions', 1)
local pk = P .. 'pend:' .. rid
local pending = redis.call('LRANGE', pk, 0, -1)
redis.call('DEL', pk)
local out = {1}
for _, raw in ipairs(pending) do
  local fb = cjson.decode(raw)
  if fb.s == subject then out[#out + 1] = apply(P, ik, fb.y, fb.i, fb.r, k, 'request_id') end
end
return out
