-- Grants of one node on counters of one bucket, atomic on the bucket's shard.
-- KEYS[1..]    the counters (hashes: used, and per node g:/x:/i:/a: = granted, expiry, grant id, grant amount)
-- ARGV[1..3]   node, grant expiry (ms), how long an expired grant's record is kept (ms)
-- ARGV[4..]    per counter: request id, limit, want, min, pending, keep (ms; 0 = forever), window end (ms)
-- Returns per counter {granted, used, outstanding, holders}, as text.
-- A counter grants only while used + pending + live grants of every node + grant <= limit; a grant
-- is live until its expiry on this server's clock. A request id this counter last granted this node
-- answers what it granted then, and grants nothing more.
local node = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiresAt = string.format('%d', now + tonumber(ARGV[2]))
local forgetBefore = now - tonumber(ARGV[3])
local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local a = 4 + (i - 1) * 7
  local id, limit, want, min, pending = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]),
      tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local h = redis.call('HGETALL', k)
  local usedText = '0'
  local g, x, gid, gamt = {}, {}, {}, {}
  for j = 1, #h, 2 do
    local f, v = h[j], h[j + 1]
    if f == 'used' then
      usedText = v
    else
      local kind, n = string.sub(f, 1, 1), string.sub(f, 3)
      if kind == 'g' then g[n] = tonumber(v)
      elseif kind == 'x' then x[n] = tonumber(v)
      elseif kind == 'i' then gid[n] = v
      elseif kind == 'a' then gamt[n] = v
      end
    end
  end
  local used = tonumber(usedText)
  local live, holders = 0, 0
  for n, gv in pairs(g) do
    local xv = x[n] or 0
    if xv > now and gv > 0 then
      live = live + gv
      holders = holders + 1
    elseif n ~= node and xv < forgetBefore then
      redis.call('HDEL', k, 'g:' .. n, 'x:' .. n, 'i:' .. n, 'a:' .. n)
    end
  end
  if gid[node] == id then
    out[i] = {gamt[node] or '0', usedText, string.format('%d', live), string.format('%d', holders)}
  else
    local ownLive = g[node] ~= nil and (x[node] or 0) > now and g[node] > 0
    local available = limit - used - pending - live
    local granted = 0
    if available >= want then
      granted = want
    elseif available >= min then
      granted = available
    end
    if granted > 0 then
      local held = 0
      if ownLive then held = g[node] end
      redis.call('HSET', k, 'g:' .. node, string.format('%d', held + granted), 'x:' .. node, expiresAt,
          'i:' .. node, id, 'a:' .. node, string.format('%d', granted))
      local keep = tonumber(ARGV[a + 5])
      if keep > 0 then
        redis.call('PEXPIREAT', k, string.format('%d', math.max(tonumber(ARGV[a + 6]), now) + keep))
      end
      if not ownLive then holders = holders + 1 end
    end
    out[i] = {string.format('%d', granted), usedText, string.format('%d', live + granted),
        string.format('%d', holders)}
  end
end
return out
