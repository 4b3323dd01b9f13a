-- KEYS[1] the event's de-duplication key (declared for routing: every key of an experiment shares its slot)
-- ARGV: prefix, event id, type, subject, item, request id ('' when none), revenue, ts, k, ttl ms, skew ms
-- Returns an outcome: {'duplicate'}, {'pending'}, {'unattributed'} or {'joined', ...} (common.lua).
local P, eventId, ftype, subject, item, rid, revenue = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local ts, k, ttl, skew = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[11])
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ttl) then return {'duplicate'} end
if rid ~= '' then
  local ik = P .. 'imp:' .. rid
  if redis.call('EXISTS', ik) == 0 then
    local pk = P .. 'pend:' .. rid
    redis.call('RPUSH', pk, cjson.encode({e = eventId, y = ftype, s = subject, i = item, r = revenue}))
    redis.call('PEXPIRE', pk, ttl)
    return {'pending'}
  end
  if redis.call('HGET', ik, 's') ~= subject then return {'unattributed'} end
  return apply(P, ik, ftype, item, revenue, k, 'request_id')
end
local rids = redis.call('LRANGE', P .. 'sub:' .. subject, 0, -1)
for i = #rids, 1, -1 do
  local ik = P .. 'imp:' .. rids[i]
  local t = redis.call('HGET', ik, 't')
  if t and tonumber(t) <= ts + skew and redis.call('HEXISTS', ik, 'i:' .. item) == 1 then
    return apply(P, ik, ftype, item, revenue, k, 'subject_item')
  end
end
return {'unattributed'}
