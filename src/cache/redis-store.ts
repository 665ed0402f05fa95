// The shared stores on Redis. Key layout (prefix 'orgw:' by default):
//   {prefix}c:{scope}:{key}   an entry (Keyv + @keyv/redis), PX = staleUntil - now
//   {prefix}g:{scope}         hash tag -> generation (HINCRBY, HMGET: never KEYS/SCAN)
//   {prefix}f:{scope}         hash tag -> floor: the generation of its last hard bump (a write)
//   {prefix}l:{name}          a lease: random owner, SET NX PX
//   {prefix}s:{name}          a shared value
//   {prefix}inval             the pub/sub channel replicas invalidate L1 copies through
import { randomUUID } from 'node:crypto';
import KeyvRedis, { Keyv } from '@keyv/redis';
import { keyvEntryCodec } from './entry-codec.js';
import { boundedCall, type RedisClient } from './redis-connection.js';
import { assertTtl, type SharedTier } from './shared-tier.js';
import type { StoreHealth } from './store-health.js';
import type { CacheEntry, LeaseStore, SharedState } from './types.js';

// One round trip, atomic: the increments (and, for a hard bump, the floors) and the message
// other replicas apply. KEYS: generations, floors. ARGV: channel, scope, hard ('1'/'0'), then
// tag, increment pairs. cjson.encode gives {"s":..,"g":[[tag,gen],..]} (with "h":true when hard).
const BUMP = `
local gens, moved = {}, {}
local hard = ARGV[3] == '1'
for i = 4, #ARGV, 2 do
  local g = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  if hard then redis.call('HSET', KEYS[2], ARGV[i], g) end
  gens[#gens + 1] = g
  moved[#moved + 1] = { ARGV[i], g }
end
local msg = { s = ARGV[2], g = moved }
if hard then msg.h = true end
redis.call('PUBLISH', ARGV[1], cjson.encode(msg))
return gens`;

// Delete only our own lease: after it expired, another replica may hold the name.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Extend only our own lease, for the same reason.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export function redisKeys(prefix: string) {
  return {
    entryNamespace: `${prefix}c`,
    generations: (scope: string) => `${prefix}g:${scope}`,
    floors: (scope: string) => `${prefix}f:${scope}`,
    lease: (name: string) => `${prefix}l:${name}`,
    state: (name: string) => `${prefix}s:${name}`,
    channel: `${prefix}inval`,
  };
}

export interface RedisStoreDeps {
  client: RedisClient;
  prefix: string;
  health: StoreHealth;
  commandTimeoutMs: number;
}

export function createRedisTier({ client, prefix, health, commandTimeoutMs }: RedisStoreDeps): SharedTier {
  const keys = redisKeys(prefix);
  const call = boundedCall(client, health, commandTimeoutMs, 'cache');
  const adapter = new KeyvRedis<string>(client, { keyPrefixSeparator: ':', throwOnErrors: true, throwOnConnectError: true });
  const entries = new Keyv<CacheEntry>(adapter, {
    namespace: keys.entryNamespace,
    useKeyPrefix: false,
    throwOnErrors: true,
    ...keyvEntryCodec,
  });
  // Errors surface as rejections (throwOnErrors); the events would only duplicate them.
  entries.on('error', () => {});

  return {
    getEntry: (id) => call(() => entries.get(id)),
    setEntry: (id, entry, ttlMs) =>
      call(async () => {
        await entries.set(id, entry, ttlMs);
      }),
    deleteEntry: (scope, id) =>
      call(async () => {
        await entries.delete(id);
        await client.publish(keys.channel, JSON.stringify({ s: scope, d: id }));
      }),
    async readGenerations(scope, tags) {
      if (tags.length === 0) return [];
      const values = await call(() => client.hmGet(keys.generations(scope), [...tags]));
      return values.map((v) => (v === null ? 0 : Number(v)));
    },
    async addGenerations(scope, tags, increments, hard) {
      const args = [keys.channel, scope, hard ? '1' : '0', ...tags.flatMap((tag, i) => [tag, String(increments[i] ?? 1)])];
      const gens = (await call(() => client.eval(BUMP, { keys: [keys.generations(scope), keys.floors(scope)], arguments: args }))) as number[];
      return gens.map(Number);
    },
    async readFloors(scope, tags) {
      if (tags.length === 0) return [];
      const values = await call(() => client.hmGet(keys.floors(scope), [...tags]));
      return values.map((v) => (v === null ? 0 : Number(v)));
    },
  };
}

const DOWN = Symbol('lease taken while the store was down');

export function createRedisLeases({ client, prefix, health, commandTimeoutMs }: RedisStoreDeps): LeaseStore {
  const keys = redisKeys(prefix);
  const call = boundedCall(client, health, commandTimeoutMs, 'cache');
  const held = new Map<string, string | typeof DOWN>();
  return {
    async acquire(name, ttlMs) {
      assertTtl(ttlMs);
      const owner = randomUUID();
      try {
        const ok = await call(() => client.set(keys.lease(name), owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }));
        health.ok();
        if (ok !== 'OK') return false;
        held.set(name, owner);
        return true;
      } catch (err) {
        // Without Redis no replica can coordinate: each fetches for itself.
        health.fail('lease', err);
        held.set(name, DOWN);
        return true;
      }
    },
    async renew(name, ttlMs) {
      assertTtl(ttlMs);
      const owner = held.get(name);
      if (owner === undefined) return false;
      if (owner === DOWN) return true; // nothing to extend: no replica can see it either
      try {
        const n = await call(() => client.eval(RENEW, { keys: [keys.lease(name)], arguments: [owner, String(ttlMs)] }));
        return Number(n) === 1;
      } catch (err) {
        health.fail('lease', err);
        return false;
      }
    },
    async release(name) {
      const owner = held.get(name);
      held.delete(name);
      if (owner === undefined || owner === DOWN) return;
      try {
        await call(() => client.eval(RELEASE, { keys: [keys.lease(name)], arguments: [owner] }));
      } catch (err) {
        health.fail('lease', err); // it expires by itself after its TTL
      }
    },
  };
}

export function createRedisState({ client, prefix, health, commandTimeoutMs }: RedisStoreDeps): SharedState {
  const keys = redisKeys(prefix);
  const call = boundedCall(client, health, commandTimeoutMs, 'cache');
  return {
    async get(name) {
      try {
        const value = await call(() => client.get(keys.state(name)));
        health.ok();
        return value ?? undefined;
      } catch (err) {
        health.fail('state', err);
        return undefined;
      }
    },
    async set(name, value, ttlMs) {
      if (ttlMs !== undefined) assertTtl(ttlMs);
      try {
        await call(() => client.set(keys.state(name), value, ttlMs === undefined ? {} : { expiration: { type: 'PX', value: ttlMs } }));
        health.ok();
      } catch (err) {
        health.fail('state', err);
      }
    },
  };
}
