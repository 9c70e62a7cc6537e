/**
 * The Lua scripts of Redis presence. Each runs atomically, so a count and the change message
 * published with it agree, and messages leave in `seq` order on the one channel. Time is Redis'
 * own (TIME), so the gateways' clocks do not matter. Every script touches O(1) keys, except
 * REAP, which handles at most one batch of one dead owner per call.
 */

/** Milliseconds since the epoch by Redis' clock. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * HEARTBEAT owners | owner ttl → 1 when the owner was alive, 0 when unknown or past its deadline
 * (its members are being or were reaped: the worker re-joins them). Either way it is alive now.
 */
export const HEARTBEAT = `${NOW}
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if deadline and tonumber(deadline) >= now then return 1 end
return 0`;

/**
 * JOIN owners room ownerSet seq | owner namespace room id record channel → {count, seq}, or
 * {-1, 0} when the owner is unknown or expired (a join must never outlive the reaping of its owner).
 */
export const JOIN = `${NOW}
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not deadline or tonumber(deadline) < now then return {-1, 0} end
local value = ARGV[1] .. ' ' .. ARGV[5]
local previous = redis.call('HGET', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[4], value)
redis.call('SADD', KEYS[3], cjson.encode({ARGV[2], ARGV[3], ARGV[4]}))
local count = redis.call('HLEN', KEYS[2])
if previous == value then return {count, tonumber(redis.call('GET', KEYS[4]) or '0')} end
local seq = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[6], cjson.encode({n = ARGV[2], r = ARGV[3], c = count, s = seq, k = 'join', m = ARGV[4], i = ARGV[5]}))
return {count, seq}`;

/**
 * LEAVE room ownerSet seq | owner namespace room id channel → {count, seq}. Only the owner's own
 * entry goes: a socket that recovered its id on a new worker belongs to the new one.
 */
export const LEAVE = `redis.call('SREM', KEYS[2], cjson.encode({ARGV[2], ARGV[3], ARGV[4]}))
local value = redis.call('HGET', KEYS[1], ARGV[4])
local mine = ARGV[1] .. ' '
if value and string.sub(value, 1, #mine) == mine then
  redis.call('HDEL', KEYS[1], ARGV[4])
  local count = redis.call('HLEN', KEYS[1])
  local seq = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', ARGV[5], cjson.encode({n = ARGV[2], r = ARGV[3], c = count, s = seq, k = 'leave', m = ARGV[4]}))
  return {count, seq}
end
return {redis.call('HLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[3]) or '0')}`;

/**
 * REAP owners seq | prefix batch channel → -1 when no owner is past its deadline, else how many
 * memberships of the first dead owner it handled (at most `batch`). The owner leaves the list once
 * its set is empty; one change per room touched is published.
 */
export const REAP = `${NOW}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, 1)
if #dead == 0 then return -1 end
local owner = dead[1]
local set = ARGV[1] .. ':owner:' .. owner
local entries = redis.call('SPOP', set, tonumber(ARGV[2]))
local mine = owner .. ' '
local touched = {}
for _, entry in ipairs(entries) do
  local e = cjson.decode(entry)
  local key = ARGV[1] .. ':room:' .. #e[1] .. ':' .. e[1] .. e[2]
  local value = redis.call('HGET', key, e[3])
  if value and string.sub(value, 1, #mine) == mine then
    redis.call('HDEL', key, e[3])
    touched[key] = e
  end
end
for key, e in pairs(touched) do
  local seq = redis.call('INCR', KEYS[2])
  redis.call('PUBLISH', ARGV[3], cjson.encode({n = e[1], r = e[2], c = redis.call('HLEN', key), s = seq, k = 'expire'}))
end
if redis.call('SCARD', set) == 0 then redis.call('ZREM', KEYS[1], owner) end
return #entries`;

/** RETIRE owners | owner → removes the owner's deadline so the next REAP removes its members at once (a draining worker). */
export const RETIRE = `if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('ZADD', KEYS[1], 0, ARGV[1]) end
return 1`;
