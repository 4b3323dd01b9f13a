-- Shared by the experiment join scripts (prepended to each): applies one piece of feedback to an
-- impression hash and its variant's counts. The same rule as applyFeedback in src/store.ts.
-- Impression hash fields: v variant, s subject, t ts, c clicked (0/1), o converted (0/1), r revenue,
-- i:<item> 1-based position.
local function apply(P, ik, ftype, item, revenue, k, attribution)
  local pos = redis.call('HGET', ik, 'i:' .. item)
  if not pos then return {'unattributed'} end
  pos = tonumber(pos)
  local variant = redis.call('HGET', ik, 'v')
  local ck = P .. 'counts:' .. variant
  local newlyClicked, newlyConverted = 0, 0
  local rev = '0'
  if ftype == 'click' then
    redis.call('HINCRBY', ck, 'clicks', 1)
    redis.call('HINCRBY', ck, 'clickPositionSum', pos)
    if pos <= k and redis.call('HGET', ik, 'c') == '0' then
      redis.call('HSET', ik, 'c', '1')
      redis.call('HINCRBY', ck, 'clickedImpressions', 1)
      newlyClicked = 1
    end
  elseif ftype == 'add_to_cart' then
    redis.call('HINCRBY', ck, 'carts', 1)
  else
    if redis.call('HGET', ik, 'o') == '0' then
      redis.call('HSET', ik, 'o', '1')
      redis.call('HINCRBY', ck, 'convertedImpressions', 1)
      newlyConverted = 1
    end
    local before = tonumber(redis.call('HGET', ik, 'r'))
    local after = tonumber(redis.call('HINCRBYFLOAT', ik, 'r', revenue))
    redis.call('HINCRBYFLOAT', ck, 'revenue', revenue)
    redis.call('HINCRBYFLOAT', ck, 'revenueSq', string.format('%.17g', after * after - before * before))
    rev = revenue
  end
  return {'joined', ftype, variant, pos, attribution, newlyClicked, newlyConverted, rev}
end
