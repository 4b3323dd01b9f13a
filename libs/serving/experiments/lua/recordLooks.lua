-- KEYS[1] an experiment's looks hash. ARGV: (comparison, p) pairs. Keeps each comparison's running
-- minimum p-value; returns the hash's pairs.
for i = 1, #ARGV, 2 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if not old or tonumber(ARGV[i + 1]) < tonumber(old) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return redis.call('HGETALL', KEYS[1])
