// The shared stores on Redis. Key layout (prefix 'orgw:' by default):
//   {prefix}c:{scope}:{key}   an entry (Keyv + @keyv/redis), PX = staleUntil - now
//   {prefix}g:{scope}         hash tag -> generation (HINCRBY, HMGET: never KEYS/SCAN)
//   {prefix}l:{name}          a lease: random owner, SET NX PX
//   {prefix}s:{name}          a shared value
//   {prefix}inval             the pub/sub channel replicas invalidate L1 copies through
import { randomUUID } from 'node:crypto';
import KeyvRedis, { Keyv } from '@keyv/redis';
import { keyvEntryCodec } from './entry-codec.js';
import { assertTtl } from './memory-store.js';
import type { RedisClient } from './redis-connection.js';
import type { SharedTier } from './shared-tier.js';
import type { StoreHealth } from './store-health.js';
import type { CacheEntry, LeaseStore, SharedState } from './types.js';

// One round trip, atomic: the increments and the message other replicas apply.
// ARGV: channel, scope, then tag, increment pairs. cjson.encode gives {"s":..,"g":[[tag,gen],..]}.
const BUMP = `
local gens, pairs = {}, {}
for i = 3, #ARGV, 2 do
  local g = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  gens[#gens + 1] = g
  pairs[#pairs + 1] = { ARGV[i], g }
end
redis.call('PUBLISH', ARGV[1], cjson.encode({ s = ARGV[2], g = pairs }))
return gens`;

// Delete only our own lease: after it expired, another replica may hold the name.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function redisKeys(prefix: string) {
  return {
    entryNamespace: `${prefix}c`,
    generations: (scope: string) => `${prefix}g:${scope}`,
    lease: (name: string) => `${prefix}l:${name}`,
    state: (name: string) => `${prefix}s:${name}`,
    channel: `${prefix}inval`,
  };
}

class StoreClosedError extends Error {
  constructor() {
    super('cache backend is closed');
    this.name = 'StoreClosedError';
  }
}

/** Throws once closed: @keyv/redis would otherwise reopen a closed client on its next call. */
function guard(client: RedisClient): void {
  if (!client.isOpen) throw new StoreClosedError();
}

export function createRedisTier(client: RedisClient, prefix: string): SharedTier {
  const keys = redisKeys(prefix);
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
    async getEntry(id) {
      guard(client);
      return entries.get(id);
    },
    async setEntry(id, entry, ttlMs) {
      guard(client);
      await entries.set(id, entry, ttlMs);
    },
    async deleteEntry(scope, id) {
      guard(client);
      await entries.delete(id);
      await client.publish(keys.channel, JSON.stringify({ s: scope, d: id }));
    },
    async readGenerations(scope, tags) {
      guard(client);
      if (tags.length === 0) return [];
      const values = await client.hmGet(keys.generations(scope), [...tags]);
      return values.map((v) => (v === null ? 0 : Number(v)));
    },
    async addGenerations(scope, tags, increments) {
      guard(client);
      const args = [keys.channel, scope, ...tags.flatMap((tag, i) => [tag, String(increments[i] ?? 1)])];
      const gens = (await client.eval(BUMP, { keys: [keys.generations(scope)], arguments: args })) as number[];
      return gens.map(Number);
    },
  };
}

const DOWN = Symbol('lease taken while the store was down');

export function createRedisLeases(client: RedisClient, prefix: string, health: StoreHealth): LeaseStore {
  const keys = redisKeys(prefix);
  const held = new Map<string, string | typeof DOWN>();
  return {
    async acquire(name, ttlMs) {
      assertTtl(ttlMs);
      const owner = randomUUID();
      try {
        guard(client);
        const ok = await client.set(keys.lease(name), owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
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
    async release(name) {
      const owner = held.get(name);
      held.delete(name);
      if (owner === undefined || owner === DOWN) return;
      try {
        guard(client);
        await client.eval(RELEASE, { keys: [keys.lease(name)], arguments: [owner] });
      } catch (err) {
        health.fail('lease', err); // it expires by itself after its TTL
      }
    },
  };
}

export function createRedisState(client: RedisClient, prefix: string, health: StoreHealth): SharedState {
  const keys = redisKeys(prefix);
  return {
    async get(name) {
      try {
        guard(client);
        const value = await client.get(keys.state(name));
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
        guard(client);
        await client.set(keys.state(name), value, ttlMs === undefined ? {} : { expiration: { type: 'PX', value: ttlMs } });
        health.ok();
      } catch (err) {
        health.fail('state', err);
      }
    },
  };
}
