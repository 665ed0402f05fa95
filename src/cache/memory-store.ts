// The single-process stores: the shared tier, leases and state live in this process. The
// L2 keeps the two-tier shape of Redis mode, so both modes behave alike.
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { entryFootprint } from './entry-codec.js';
import { assertTtl, type SharedTier } from './shared-tier.js';
import type { CacheEntry, LeaseStore, SharedState } from './types.js';

/**
 * The single-process L2: the entry objects themselves, bounded in bytes as L1 is. It holds the
 * very objects L1 holds (the same body Buffer), and tells L1 of every removal (`onDrop`) so
 * L1 never keeps a page L2 let go: the process then holds at most `maxBytes` of pages, once.
 * (A serialised copy here held every page twice, and only one copy was counted.)
 */
export function createMemoryTier(maxBytes: number, onDrop: (id: string, entry: CacheEntry) => void = () => {}): SharedTier {
  const entries = new LRUCache<string, CacheEntry>({
    maxSize: maxBytes,
    sizeCalculation: (entry, id) => entryFootprint(entry, id),
    // Every removal (eviction, overwrite, delete, expiry) passes here.
    dispose: (entry, id) => onDrop(id, entry),
  });
  const generations = new Map<string, Map<string, number>>();
  const floors = new Map<string, Map<string, number>>();

  return {
    getEntry: async (id) => entries.get(id),
    setEntry: async (id, entry, ttlMs) => {
      assertTtl(ttlMs);
      entries.set(id, entry, { ttl: ttlMs });
    },
    deleteEntry: async (_scope, id) => {
      entries.delete(id);
    },
    readGenerations: async (scope, tags) => tags.map((tag) => generations.get(scope)?.get(tag) ?? 0),
    addGenerations: async (scope, tags, increments, hard) => {
      let gens = generations.get(scope);
      if (!gens) generations.set(scope, (gens = new Map()));
      let fl = floors.get(scope);
      if (hard && !fl) floors.set(scope, (fl = new Map()));
      const g = gens;
      return tags.map((tag, i) => {
        const next = (g.get(tag) ?? 0) + (increments[i] ?? 1);
        g.set(tag, next);
        if (hard) fl!.set(tag, next);
        return next;
      });
    },
    readFloors: async (scope, tags) => tags.map((tag) => floors.get(scope)?.get(tag) ?? 0),
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
