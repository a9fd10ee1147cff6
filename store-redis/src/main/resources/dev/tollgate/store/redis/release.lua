-- Gives back unused units of one node's grants on counters of one bucket.
-- KEYS[1..] the counters; ARGV[1] node; ARGV[2..] per counter: units to give back.
local gk = 'g:' .. ARGV[1]
for i = 1, #KEYS do
  local g = redis.call('HGET', KEYS[i], gk)
  if g then
    local left = tonumber(g) - tonumber(ARGV[i + 1])
    if left < 0 then left = 0 end
    redis.call('HSET', KEYS[i], gk, string.format('%d', left))
  end
end
return #KEYS
