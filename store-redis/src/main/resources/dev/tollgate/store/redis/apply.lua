-- One bucket's part of a write batch, atomic on the bucket's shard (every key shares its slot).
-- KEYS[1]      the bucket's applied-batch record (sorted set: batch id -> the batch's time)
-- KEYS[2..c+1] the counters (hashes: used, and per node g:/x:/i:/a: = granted, expiry, grant id, grant amount)
-- KEYS[c+2..]  the request ids of the bucket's records that carry one (strings, set once, with a TTL)
-- KEYS[#KEYS]  the bucket's index of windowed counters (sorted set, all scores 0, lexical order)
-- ARGV[1..5]   batch id, batch time (ms), node, grant expiry (ms), record retention (ms)
-- ARGV[6..7]   request id retention (ms), number of request ids r (so c = #KEYS - 2 - r)
-- ARGV[8..]    per counter: amount, granted part, keep (ms after its window ends; 0 = forever), window end (ms),
--              its member in the index ('' for a total counter);
--              then per request id: its negated amount, the number m of its counters, their m positions (1..c)
-- Returns {-1} when this bucket applied the batch before (nothing changes), else each counter's
-- value after the write, as text (64-bit exact), followed, when r > 0, by each counter's value
-- before it (so the caller knows what the write added once repeated request ids were taken off).
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return {-1}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local r = tonumber(ARGV[7])
local c = #KEYS - 2 - r
local p = 8 + c * 5
local before = {}
if r > 0 then
  for i = 1, c do
    before[i] = redis.call('HGET', KEYS[i + 1], 'used') or '0'
  end
end
for j = 1, r do
  local m = tonumber(ARGV[p + 1])
  if not redis.call('SET', KEYS[c + 1 + j], '1', 'NX', 'PX', ARGV[6]) then
    -- Charged before (or earlier in this batch): its amount comes off its counters' deltas.
    for q = 1, m do
      redis.call('HINCRBY', KEYS[1 + tonumber(ARGV[p + 1 + q])], 'used', ARGV[p])
    end
  end
  p = p + 2 + m
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gk, xk = 'g:' .. ARGV[3], 'x:' .. ARGV[3]
local extended = string.format('%d', now + tonumber(ARGV[4]))
local out = {}
for i = 2, c + 1 do
  local k = KEYS[i]
  local a = 8 + (i - 2) * 5
  redis.call('HINCRBY', k, 'used', ARGV[a])
  local granted = tonumber(ARGV[a + 1])
  if granted > 0 then
    local x = tonumber(redis.call('HGET', k, xk))
    if x and x > now then
      -- Writing is using: retire what was used of the live grant, and extend it.
      local left = tonumber(redis.call('HGET', k, gk) or '0') - granted
      if left < 0 then left = 0 end
      redis.call('HSET', k, gk, string.format('%d', left), xk, extended)
    elseif x then
      redis.call('HSET', k, gk, '0')
    end
  end
  local keep = tonumber(ARGV[a + 2])
  if keep > 0 then
    -- Kept for `keep` after the window ends, or after this write when that is later.
    local until_ = math.max(tonumber(ARGV[a + 3]), now) + keep
    redis.call('PEXPIREAT', k, string.format('%d', until_))
  end
  if ARGV[a + 4] ~= '' then
    redis.call('ZADD', KEYS[#KEYS], 0, ARGV[a + 4])
  end
  out[i - 1] = redis.call('HGET', k, 'used')
end
for i = 1, #before do
  out[c + i] = before[i]
end
return out
