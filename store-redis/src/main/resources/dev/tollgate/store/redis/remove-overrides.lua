-- Removes a subject's overrides of one quota. KEYS[1] the subject's hash; ARGV[1] the fields' prefix (o:<quota>:).
local removed = 0
local p = ARGV[1]
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #p) == p then
    removed = removed + redis.call('HDEL', KEYS[1], f)
  end
end
return removed
