// L1 (lru-cache in this process, bounded in bytes) in front of the shared tier. An L1 hit is
// validated against the generation mirror with no round trip; everything else, and any L1
// copy older than l1MaxAgeMs (a pub/sub message may have been lost), is re-read from L2 and
// validated against the authoritative generations. Store errors never escape: reads fall
// back to what L1 holds, writes and bumps still happen locally.
import { LRUCache } from 'lru-cache';
import { entryFootprint, entryId, ownedBuffer, scopePart } from './entry-codec.js';
import { builtLater, createGenerationMirror } from './generation-mirror.js';
import { parseInvalidation, type SharedTier } from './shared-tier.js';
import type { StoreHealth } from './store-health.js';
import type { CacheEntry, CacheLookup, TieredCache } from './types.js';

export interface TieredCacheDeps {
  tier: SharedTier;
  health: StoreHealth;
  maxMemoryBytes: number;
  /** Infinity when L2 lives in this process (nothing to miss). */
  l1MaxAgeMs: number;
  now: () => number;
  close(): Promise<void>;
}

/** TieredCache plus what only this process's owner needs. */
export interface ProcessTieredCache extends TieredCache {
  /** Drops every L1 copy (an operator's local purge; tests use it to reach L2). */
  clearL1(): void;
}

export interface TieredCacheInternals extends ProcessTieredCache {
  /** A message from the invalidation channel. */
  applyMessage(raw: string): void;
  /** The subscription was re-established: messages may have been lost, so re-check every L1 copy. */
  resync(): void;
  /** The store is reachable again: push the bumps it missed. */
  replayPendingBumps(): Promise<void>;
  /** The in-process store let this entry go: so does L1, unless it holds a newer one. */
  dropL1(id: string, entry: CacheEntry): void;
}

interface L1Item {
  entry: CacheEntry;
  /** When this copy was last validated against L2 (our clock). */
  checkedAt: number;
}

export function createTieredCache(deps: TieredCacheDeps): TieredCacheInternals {
  const { tier, health, now } = deps;
  /** L1 entries and bytes per scope part of the id, kept as lru-cache adds and drops them. */
  const perScope = new Map<string, { l1Entries: number; l1Bytes: number }>();
  const account = (id: string, item: L1Item, sign: 1 | -1) => {
    const scope = id.slice(0, id.indexOf(':'));
    let s = perScope.get(scope);
    if (!s) perScope.set(scope, (s = { l1Entries: 0, l1Bytes: 0 }));
    s.l1Entries += sign;
    s.l1Bytes += sign * entryFootprint(item.entry, id);
    if (s.l1Entries === 0) perScope.delete(scope);
  };
  const l1 = new LRUCache<string, L1Item>({
    maxSize: deps.maxMemoryBytes,
    sizeCalculation: (item, id) => entryFootprint(item.entry, id),
    // Every removal (eviction, overwrite, delete, expiry, clear) passes here.
    dispose: (item, id) => account(id, item, -1),
  });
  const mirror = createGenerationMirror();
  /** Floors (generations of hard bumps) as far as this process knows them; they only move forward too. */
  const floors = createGenerationMirror();
  /** Bumps the store did not take, per scope and tag, replayed when it is back. */
  const pending = new Map<string, Map<string, number>>();
  /** Of those, the tags whose bump was hard (their floors move when replayed). */
  const pendingHard = new Map<string, Set<string>>();
  let resyncAt = -Infinity;

  function keep(id: string, entry: CacheEntry, t: number): void {
    const item = { entry, checkedAt: t };
    l1.set(id, item, { ttl: Math.max(1, Math.ceil(entry.staleUntil - t)) });
    // lru-cache refuses an item larger than maxSize without storing it.
    if (l1.peek(id, { allowStale: true }) === item) account(id, item, 1);
  }

  async function generations(scope: string, tags: readonly string[]): Promise<number[]> {
    try {
      const gens = await tier.readGenerations(scope, tags);
      health.ok();
      mirror.observe(scope, tags, gens);
      return gens;
    } catch (err) {
      health.fail('generations', err);
      // Our best knowledge, remembered so the L1 copies built on it are vouched for.
      const gens = tags.map((tag) => mirror.current(scope, tag) ?? 0);
      mirror.observe(scope, tags, gens);
      return gens;
    }
  }

  function addPending(scope: string, tags: readonly string[], increments: readonly number[], hard: boolean): void {
    let tagMap = pending.get(scope);
    if (!tagMap) pending.set(scope, (tagMap = new Map()));
    tags.forEach((tag, i) => tagMap.set(tag, (tagMap.get(tag) ?? 0) + (increments[i] ?? 1)));
    if (!hard) return;
    let hardTags = pendingHard.get(scope);
    if (!hardTags) pendingHard.set(scope, (hardTags = new Set()));
    for (const tag of tags) hardTags.add(tag);
  }

  /** The L1 copy, dropped once past its stale window. */
  function l1Item(id: string, t: number): L1Item | undefined {
    const item = l1.get(id);
    if (item && item.entry.staleUntil <= t) {
      l1.delete(id);
      return undefined;
    }
    return item;
  }

  /** An L1 copy good enough to serve without asking L2. */
  function vouched(scope: string, item: L1Item, t: number, local = mirror.check(scope, item.entry.tags)): boolean {
    return local === 'valid' && t - item.checkedAt < deps.l1MaxAgeMs && item.checkedAt >= resyncAt;
  }

  return {
    peek(scope, key) {
      const t = now();
      const item = l1Item(entryId(scope, key), t);
      return item && vouched(scope, item, t) ? item.entry : undefined;
    },

    async get(scope, key): Promise<CacheLookup | undefined> {
      const id = entryId(scope, key);
      const t = now();
      const item = l1Item(id, t);
      const local = item ? mirror.check(scope, item.entry.tags) : 'unknown';
      if (item && vouched(scope, item, t, local)) return { entry: item.entry, tier: 'l1', valid: true };
      let shared: CacheEntry | undefined;
      try {
        shared = await tier.getEntry(id);
        health.ok();
      } catch (err) {
        health.fail('get', err);
        // L1 still serves, but only a copy checked within l1MaxAgeMs: an older one may hide a
        // change whose message this replica never got (the store is down). It is refetched
        // from the origin, and stays good as stale-if-error.
        return item && { entry: item.entry, tier: 'l1', valid: local === 'valid' && t - item.checkedAt < deps.l1MaxAgeMs };
      }
      if (!shared || shared.staleUntil <= t) {
        // L2 is the truth: gone there (expired, deleted, evicted) means gone.
        l1.delete(id);
        return undefined;
      }
      const tags = shared.tags.map(([tag]) => tag);
      let current: number[];
      try {
        current = await tier.readGenerations(scope, tags);
        mirror.observe(scope, tags, current);
      } catch (err) {
        health.fail('get', err);
        current = tags.map((tag) => mirror.current(scope, tag) ?? -1); // unknown: not valid
      }
      keep(id, shared, t);
      return { entry: shared, tier: 'l2', valid: shared.tags.every(([, g], i) => g === current[i]) };
    },

    async set(scope, key, response, times, tags, known) {
      if (known && known.length !== tags.length) {
        throw new RangeError(`cache.set: ${known.length} generations for ${tags.length} tags`);
      }
      const t = now();
      const ttlMs = Math.ceil(times.staleUntil - t);
      if (!(ttlMs > 0)) return; // already past its stale window: nothing to keep
      const gens = known ?? (await generations(scope, tags));
      const entry: CacheEntry = {
        status: response.status,
        headers: { ...response.headers },
        body: ownedBuffer(response.body),
        ...(response.digest !== undefined ? { digest: response.digest } : {}),
        ...(response.encoded !== undefined ? { encoded: response.encoded } : {}),
        storedAt: t,
        freshUntil: times.freshUntil,
        staleUntil: times.staleUntil,
        tags: tags.map((tag, i) => [tag, gens[i] ?? 0]),
      };
      const id = entryId(scope, key);
      // Two fetches of one page can finish in either order: one begun before a write must not
      // replace what one begun after it stored (the later read would then miss, or worse).
      const held = l1.peek(id, { allowStale: true })?.entry;
      if (held && builtLater(held.tags, entry.tags)) return;
      keep(id, entry, t);
      try {
        await tier.setEntry(id, entry, ttlMs);
        health.ok();
      } catch (err) {
        health.fail('set', err);
      }
    },

    async delete(scope, key) {
      const id = entryId(scope, key);
      l1.delete(id);
      try {
        await tier.deleteEntry(scope, id);
        health.ok();
      } catch (err) {
        health.fail('delete', err);
      }
    },

    generations,

    async bump(scope, tags, options) {
      const unique = [...new Set(tags)];
      if (unique.length === 0) return;
      const hard = options?.hard === true;
      try {
        const gens = await tier.addGenerations(scope, unique, unique.map(() => 1), hard);
        health.ok();
        mirror.observe(scope, unique, gens);
        if (hard) floors.observe(scope, unique, gens);
      } catch (err) {
        // This replica stays correct at once; the others learn of it when the store is back.
        health.fail('bump', err);
        mirror.increment(scope, unique);
        if (hard) floors.observe(scope, unique, unique.map((tag) => mirror.current(scope, tag) ?? 0));
        addPending(scope, unique, unique.map(() => 1), hard);
      }
    },

    async usableAsStale(scope, entry) {
      const tags = entry.tags.map(([tag]) => tag);
      let known: number[];
      try {
        known = await tier.readFloors(scope, tags);
        health.ok();
        floors.observe(scope, tags, known);
      } catch (err) {
        health.fail('get', err);
      }
      // What this replica knows is at least as new as what it could read (floors only rise).
      return entry.tags.every(([tag, generation]) => generation >= (floors.current(scope, tag) ?? 0));
    },

    stats: () => ({ l1Bytes: l1.calculatedSize, l1Entries: l1.size }),
    scopeStats: (scope) => ({ ...(perScope.get(scopePart(scope)) ?? { l1Entries: 0, l1Bytes: 0 }) }),
    clearL1: () => l1.clear(),
    dropL1(id, entry) {
      if (l1.peek(id, { allowStale: true })?.entry === entry) l1.delete(id);
    },
    close: () => deps.close(),

    applyMessage(raw) {
      const msg = parseInvalidation(raw);
      if (!msg) return;
      if ('d' in msg) return void l1.delete(msg.d);
      const tags = msg.g.map(([tag]) => tag);
      const gens = msg.g.map(([, g]) => g);
      mirror.observe(msg.s, tags, gens);
      if (msg.h) floors.observe(msg.s, tags, gens);
    },

    resync() {
      resyncAt = now();
    },

    async replayPendingBumps() {
      const batch = [...pending];
      const hardBatch = new Map(pendingHard);
      pending.clear();
      pendingHard.clear();
      for (const [scope, tagMap] of batch) {
        const hardTags = hardBatch.get(scope) ?? new Set<string>();
        // Hard and soft tags go separately: a floor moves only with a hard bump.
        for (const hard of [true, false]) {
          const tags = [...tagMap.keys()].filter((tag) => hardTags.has(tag) === hard);
          if (tags.length === 0) continue;
          const increments = tags.map((tag) => tagMap.get(tag)!);
          try {
            const gens = await tier.addGenerations(scope, tags, increments, hard);
            mirror.observe(scope, tags, gens);
            if (hard) floors.observe(scope, tags, gens);
          } catch (err) {
            health.fail('bump', err);
            addPending(scope, tags, increments, hard);
          }
        }
      }
    },
  };
}
