-- KEYS[1] the subject's impression list of one experiment. ARGV: prefix.
-- Deletes the subject's impressions and the feedback pending on them; returns how many impressions.
local P = ARGV[1]
local rids = redis.call('LRANGE', KEYS[1], 0, -1)
local n = 0
for _, rid in ipairs(rids) do
  n = n + redis.call('DEL', P .. 'imp:' .. rid)
  redis.call('DEL', P .. 'pend:' .. rid)
end
redis.call('DEL', KEYS[1])
return n
