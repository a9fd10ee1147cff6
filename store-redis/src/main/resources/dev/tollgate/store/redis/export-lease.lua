-- Takes or renews an export stream's lease. KEYS[1] the stream's hash (after, owner, expires);
-- ARGV[1] node, ARGV[2] now (ms), ARGV[3] the lease's new expiry (ms).
-- Returns {1, after ('' before the first delivery)} when the node holds the lease now, {0} when another node does.
local owner = redis.call('HGET', KEYS[1], 'owner')
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')
if owner and owner ~= ARGV[1] and expires >= tonumber(ARGV[2]) then
  return {0}
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'expires', ARGV[3])
return {1, redis.call('HGET', KEYS[1], 'after') or ''}
