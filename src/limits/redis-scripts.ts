// The Lua scripts of the Redis limits, and their keys (prefix 'orgw:' in production):
//   {prefix}rl:{key}        hash { tokens, at }: a token bucket; PEXPIRE once it would be full again
//   {prefix}sem:{key}       sorted set: holder id -> lease expiry (ms, Redis TIME); PEXPIRE at the last expiry
//   {prefix}sem-released    pub/sub channel: a slot of {key} was freed (the message is the key)
// Every script reads the time from Redis TIME: the replicas' clocks differ, Redis has one.
import { createHash } from 'node:crypto';
import type { RedisClient } from '../cache/redis-connection.js';

export function limitKeys(prefix: string) {
  return {
    bucket: (key: string) => `${prefix}rl:${key}`,
    semaphore: (key: string) => `${prefix}sem:${key}`,
    released: `${prefix}sem-released`,
  };
}

export interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Redis < 5 needs effects replication for a script that writes after TIME; 7 always does it.
const NOW_MS = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000`;

/**
 * KEYS: bucket. ARGV: requestsPerSecond, burst, cost (cost > 0).
 * Returns { ok 1|0, retryAfterMs, remaining as a string } (a Lua number would be truncated).
 * Same arithmetic as memory-rate.ts; 1e-9 is its EPSILON.
 */
export const TAKE = script(`${NOW_MS}
local perMs = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then
  tokens, at = burst, now
elseif now > at then
  tokens, at = math.min(burst, tokens + (now - at) * perMs), now
else
  tokens = math.min(burst, tokens)
end
local ok, retry = 0, 0
if tokens + 1e-9 >= cost then
  ok, tokens = 1, math.max(0, tokens - cost)
else
  retry = math.max(1, math.ceil((cost - tokens) / perMs))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
-- Full again after this long: then a missing bucket means the same. Capped at a week.
redis.call('PEXPIRE', KEYS[1], math.min(604800000, math.ceil((burst - tokens) / perMs) + 1))
return { ok, retry, string.format('%.17g', tokens) }`);

// Drops expired holders; leaves the key to expire with its last lease.
const EXPIRE_HOLDERS = `
now = math.floor(now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function keepUntilLastLease()
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now)) end
end`;

/**
 * KEYS: semaphore. ARGV: holder id, limit, leaseMs. Returns 1 when the holder has a slot.
 * A holder already in the set keeps its slot (a retry after a reply that came too late).
 */
export const ACQUIRE = script(`${NOW_MS}${EXPIRE_HOLDERS}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
keepUntilLastLease()
return 1`);

/**
 * KEYS: semaphore. ARGV: holder id, leaseMs. Extends the lease, or puts the holder back
 * (its lease ran out during an outage, or Redis restarted empty): its work is running, so it counts.
 */
export const RENEW = script(`${NOW_MS}${EXPIRE_HOLDERS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
keepUntilLastLease()
return 1`);

/** KEYS: semaphore. ARGV: holder id, channel, key. Frees the slot and tells the waiters of every replica. */
export const RELEASE = script(`
local n = redis.call('ZREM', KEYS[1], ARGV[1])
if n == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return n`);

const ALL = [TAKE, ACQUIRE, RENEW, RELEASE];

/**
 * Loads every script at each (re)connect, before any other command on that connection: then a
 * release and the acquire after it reach Redis in order (an EVALSHA that fell back to EVAL
 * would come after a later command).
 */
export function loadScripts(client: RedisClient): void {
  for (const s of ALL) client.scriptLoad(s.source).catch(() => undefined);
}

/** EVALSHA, and EVAL when Redis does not know the script yet (first use, or after a restart). */
export async function runScript(client: RedisClient, s: Script, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await client.evalSha(s.sha, { keys, arguments: args });
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
    return client.eval(s.source, { keys, arguments: args });
  }
}
