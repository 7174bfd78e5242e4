package redis

import goredis "github.com/redis/go-redis/v9"

// appendScript stores a batch of one chain's records atomically.
// KEYS: rec, ev, cid, meta. ARGV: per record seq, event id, consent id,
// time, hash, JSON. A record whose event id is stored is a retry and is
// skipped; a seq holding another event is a conflict and nothing is stored.
// Writes are grouped into a few multi-field commands per batch. Returns how
// many records were added.
var appendScript = goredis.NewScript(`
local rec, ev, cid, meta = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local recs, evs, cids = {}, {}, {}
local head = tonumber(redis.call('HGET', meta, 'seq') or '0')
local headArgs = nil
for i = 1, #ARGV, 6 do
  local seq, id = ARGV[i], ARGV[i+1]
  if redis.call('HEXISTS', ev, id) == 0 then
    if redis.call('HEXISTS', rec, seq) == 1 then
      return redis.error_reply('CONFLICT seq ' .. seq)
    end
    recs[#recs+1] = seq; recs[#recs+1] = ARGV[i+5]
    evs[#evs+1] = id; evs[#evs+1] = seq
    if ARGV[i+2] ~= '' then
      cids[#cids+1] = 0; cids[#cids+1] = ARGV[i+2] .. '\0' .. seq
    end
    local n = tonumber(seq)
    if n > head then
      head = n
      headArgs = {'seq', seq, 'hash', ARGV[i+4], 'time', ARGV[i+3]}
    end
  end
end
-- unpack is bounded by Lua's stack: write in slices.
local function each(cmd, key, t)
  for j = 1, #t, 1000 do
    redis.call(cmd, key, unpack(t, j, math.min(j + 999, #t)))
  end
end
each('HSET', rec, recs)
each('HSET', ev, evs)
each('ZADD', cid, cids)
if headArgs then
  redis.call('HSET', meta, unpack(headArgs))
end
return #recs / 2
`)
