-- Moves an export stream's cursor while the node holds a live lease. KEYS[1] the stream's hash;
-- ARGV[1] node, ARGV[2] now (ms), ARGV[3] the lease's new expiry (ms), ARGV[4] the cursor.
-- Returns 1 when moved, 0 when the lease was lost.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1]
    or tonumber(redis.call('HGET', KEYS[1], 'expires') or '0') < tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'after', ARGV[4], 'expires', ARGV[3])
return 1
