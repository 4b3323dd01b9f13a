--[[
  Claims a batch of producer event ids for the sources that carry them (de-duplication of producer
  retries). Every key shares one hash tag (RedisKeys.eventSeen: the id's claim bucket), so the
  script stays in one Redis Cluster slot; the caller sends one call per bucket.

  A claim is taken with SET NX: the first source to claim an id holds it for the TTL, its value the
  source. Once the raw consumer's transaction that published the event committed, the claim is
  marked published (`markPublished-n.lua`: value "p:<source>", TTL kept). So:
  - asking again with the holder's own source while the claim is unpublished (a redelivery after
    an aborted transaction or a crash) answers "held by you": the batch is redone, not dropped;
  - asking again with the holder's own source once it is published (the raw topic replayed: the
    group's offsets reset or moved back) answers "publish" 0 - the event is on the events topic
    already - and "answer" 1 - the HTTP attempt that owns the copy is told its event is in.

  Input (variadic: the caller passes the number of keys):
    KEYS[1..n]   claim keys, one per event (RedisKeys.eventSeen), in batch order
    ARGV[1]      TTL of new claims, ms
    ARGV[2]      what the caller asks: "p" may I publish (the raw consumer), "a" is it mine (the
                 HTTP answer)
    ARGV[3..n+2] the source claiming KEYS[i] (raw message "k:<partition>:<offset>", or the HTTP
                 attempt "h:<requestId>:<index>" its message carries)

  Output:
    a table of n integers, in key order: 1 yes, 0 no (held by another source, or for "p" already
    published)
]]
local rcall = redis.call
local ttl = ARGV[1]
local answer = ARGV[2] == "a"
local out = {}
for i = 1, #KEYS do
  local source = ARGV[i + 2]
  local held = rcall("SET", KEYS[i], source, "PX", ttl, "NX", "GET")
  if held == false or held == source then
    out[i] = 1
  elseif answer and held == "p:" .. source then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
