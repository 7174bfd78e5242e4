package redis

import goredis "github.com/redis/go-redis/v9"

// appendScript stores a batch of one chain's records atomically.
//
// KEYS: rec, ev, meta, then m consent index keys (one per record that
// names a consent id). ARGV: n (records), m, the batch's lowest seq, then
// its highest seq with that record's hash and time; then n pairs seq, JSON
// (for rec); n pairs event id, seq (for ev); m seqs, the i-th for the i-th
// index key.
//
// A record whose event id is stored is a retry and is skipped; a seq
// holding another event is a conflict and nothing is stored. Appends keep
// every stored seq at or below the head in meta, so a batch wholly past the
// head (the common case: a gateway appending its own chain) is neither, and
// is written with one multi-field command per hash and no per-record
// look-ups. Returns how many records were added and the head's seq before
// the batch: one below the batch's lowest seq, unless the store lost
// records the chain had (a failover, a restore, a restart without
// persistence).
var appendScript = goredis.NewScript(`
local rec, ev, meta = KEYS[1], KEYS[2], KEYS[3]
local n, m, lowest, top = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local r0 = 7
local e0 = r0 + 2 * n
local c0 = e0 + 2 * n
local stored = tonumber(redis.call('HGET', meta, 'seq') or '0')
-- unpack is bounded by Lua's stack: write in slices (of whole pairs).
local function each(cmd, key, t, first, last)
  for j = first, last, 1000 do
    redis.call(cmd, key, unpack(t, j, math.min(j + 999, last)))
  end
end
-- (With no head stored, records may still be: a head key deleted or
-- evicted. The checked path below then refuses to overwrite one.)
if lowest > stored and stored > 0 then
  each('HSET', rec, ARGV, r0, e0 - 1)
  each('HSET', ev, ARGV, e0, c0 - 1)
  for i = 1, m do
    redis.call('SADD', KEYS[3 + i], ARGV[c0 + i - 1])
  end
  redis.call('HSET', meta, 'seq', ARGV[4], 'hash', ARGV[5], 'time', ARGV[6])
  return {n, stored}
end
local recs, evs, added = {}, {}, {}
for i = 0, n - 1 do
  local seq, id = ARGV[r0 + 2 * i], ARGV[e0 + 2 * i]
  if tonumber(seq) > stored or redis.call('HEXISTS', ev, id) == 0 then
    if redis.call('HEXISTS', rec, seq) == 1 then
      return redis.error_reply('CONFLICT seq ' .. seq)
    end
    recs[#recs + 1] = seq; recs[#recs + 1] = ARGV[r0 + 2 * i + 1]
    evs[#evs + 1] = id; evs[#evs + 1] = seq
    added[seq] = true
  end
end
each('HSET', rec, recs, 1, #recs)
each('HSET', ev, evs, 1, #evs)
for i = 1, m do
  if added[ARGV[c0 + i - 1]] then
    redis.call('SADD', KEYS[3 + i], ARGV[c0 + i - 1])
  end
end
if top > stored and added[ARGV[4]] then
  redis.call('HSET', meta, 'seq', ARGV[4], 'hash', ARGV[5], 'time', ARGV[6])
end
return {#recs / 2, stored}
`)
