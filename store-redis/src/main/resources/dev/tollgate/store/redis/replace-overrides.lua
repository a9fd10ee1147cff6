-- Replaces a subject's overrides of one quota, atomically. KEYS[1] the subject's hash;
-- ARGV[1] the fields' prefix (o:<quota>:); ARGV[2..] pairs of field and limit to set.
local p = ARGV[1]
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #p) == p then
    redis.call('HDEL', KEYS[1], f)
  end
end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return 0
