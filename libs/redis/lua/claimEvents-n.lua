--[[
  Claims a batch of producer event ids for the sources that carry them (de-duplication of producer
  retries). Every key shares one hash tag (RedisKeys.eventSeen: the id's claim bucket), so the
  script stays in one Redis Cluster slot; the caller sends one call per bucket.

  A claim is taken with SET NX: the first source to claim an id holds it for the TTL. Asking again
  with the holder's own source (a redelivery of the same raw message, or the HTTP attempt that
  published it) answers "held by you", so a crash-and-redo is not taken for a duplicate.

  Input (variadic: the caller passes the number of keys):
    KEYS[1..n]  claim keys, one per event (RedisKeys.eventSeen), in batch order
    ARGV[1]     TTL of new claims, ms
    ARGV[2..n+1] the source claiming KEYS[i] (raw message "k:<partition>:<offset>", or the HTTP
                 attempt "h:<requestId>:<index>" its message carries)

  Output:
    a table of n integers, in key order: 1 claimed now or already held by this source,
    0 held by another source (a duplicate)
]]
local rcall = redis.call
local ttl = ARGV[1]
local out = {}
for i = 1, #KEYS do
  local source = ARGV[i + 1]
  local held = rcall("SET", KEYS[i], source, "PX", ttl, "NX", "GET")
  if held == false or held == source then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
