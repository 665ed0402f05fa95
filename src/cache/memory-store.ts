// The single-process stores: the shared tier, leases and state live in this process. The
// L2 keeps the two-tier shape of Redis mode (so both modes behave alike) but is bounded:
// Keyv's default Map never forgets an entry that is not read again.
import { randomUUID } from 'node:crypto';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { keyvEntryCodec } from './entry-codec.js';
import { assertTtl, type SharedTier } from './shared-tier.js';
import type { CacheEntry, LeaseStore, SharedState } from './types.js';

/** A Map-like store for Keyv, bounded in (estimated) bytes and honouring Keyv's ttl. */
function boundedMap(maxBytes: number) {
  // Serialized values are mostly ASCII JSON: V8 keeps those one byte a char.
  const lru = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: (v, k) => v.length + k.length * 2 + 100 });
  return {
    get: (k: string) => lru.get(k),
    set: (k: string, v: string, ttl?: number) => {
      lru.set(k, v, ttl ? { ttl } : {});
      return true;
    },
    delete: (k: string) => lru.delete(k),
    clear: () => lru.clear(),
  };
}

export function createMemoryTier(maxBytes: number): SharedTier {
  const entries = new Keyv<CacheEntry>({ store: boundedMap(maxBytes), useKeyPrefix: false, throwOnErrors: true, ...keyvEntryCodec });
  const generations = new Map<string, Map<string, number>>();

  return {
    getEntry: async (id) => entries.get(id),
    setEntry: async (id, entry, ttlMs) => {
      await entries.set(id, entry, ttlMs);
    },
    deleteEntry: async (_scope, id) => {
      await entries.delete(id);
    },
    readGenerations: async (scope, tags) => tags.map((tag) => generations.get(scope)?.get(tag) ?? 0),
    addGenerations: async (scope, tags, increments) => {
      let gens = generations.get(scope);
      if (!gens) generations.set(scope, (gens = new Map()));
      const g = gens;
      return tags.map((tag, i) => {
        const next = (g.get(tag) ?? 0) + (increments[i] ?? 1);
        g.set(tag, next);
        return next;
      });
    },
  };
}

interface Timed<T> {
  value: T;
  expiresAt: number;
}

function timedMap<T>(now: () => number) {
  const map = new Map<string, Timed<T>>();
  return {
    get(name: string): T | undefined {
      const hit = map.get(name);
      if (hit && hit.expiresAt <= now()) map.delete(name);
      return hit && hit.expiresAt > now() ? hit.value : undefined;
    },
    set: (name: string, value: T, ttlMs?: number) => map.set(name, { value, expiresAt: ttlMs ? now() + ttlMs : Infinity }),
    delete: (name: string) => map.delete(name),
  };
}

export function createMemoryLeases(now: () => number): LeaseStore {
  const owners = timedMap<string>(now);
  const held = new Map<string, string>();
  return {
    async acquire(name, ttlMs) {
      assertTtl(ttlMs);
      if (owners.get(name) !== undefined) return false;
      const owner = randomUUID();
      owners.set(name, owner, ttlMs);
      held.set(name, owner);
      return true;
    },
    async renew(name, ttlMs) {
      assertTtl(ttlMs);
      const owner = held.get(name);
      if (owner === undefined || owners.get(name) !== owner) return false;
      owners.set(name, owner, ttlMs);
      return true;
    },
    async release(name) {
      const owner = held.get(name);
      held.delete(name);
      if (owner !== undefined && owners.get(name) === owner) owners.delete(name);
    },
  };
}

export function createMemoryState(now: () => number): SharedState {
  const values = timedMap<string>(now);
  return {
    get: async (name) => values.get(name),
    set: async (name, value, ttlMs) => {
      if (ttlMs !== undefined) assertTtl(ttlMs);
      values.set(name, value, ttlMs);
    },
  };
}
