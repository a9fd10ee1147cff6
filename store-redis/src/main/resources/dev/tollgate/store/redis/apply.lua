-- One bucket's part of a write batch, atomic on the bucket's shard (every key shares its slot).
-- KEYS[1]      the bucket's applied-batch record (sorted set: batch id -> the batch's time)
-- KEYS[2..]    the counters (hashes: used, and per node g:/x:/i:/a: = granted, expiry, grant id, grant amount)
-- ARGV[1..5]   batch id, batch time (ms), node, grant expiry (ms), record retention (ms)
-- ARGV[6..]    per counter: amount, granted part, keep (ms after its window ends; 0 = forever), window end (ms)
-- Returns {-1} when this bucket applied the batch before (nothing changes), else each counter's
-- value after the write, as text (64-bit exact).
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return {-1}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gk, xk = 'g:' .. ARGV[3], 'x:' .. ARGV[3]
local extended = string.format('%d', now + tonumber(ARGV[4]))
local out = {}
for i = 2, #KEYS do
  local k = KEYS[i]
  local a = 6 + (i - 2) * 4
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
  out[i - 1] = redis.call('HGET', k, 'used')
end
return out
