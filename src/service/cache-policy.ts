import type { BaseCollection } from '../core/oneroster/collections.js';

export interface Freshness {
  ttlSeconds?: number | undefined;
  staleSeconds?: number | undefined;
}

export interface CachePolicyOptions {
  defaults: { ttlSeconds: number; staleSeconds: number };
  collections: Readonly<Record<string, Freshness>>;
  /** Per district: its own defaults and collection overrides. */
  districts: ReadonlyMap<string, Freshness & { collections: Readonly<Record<string, Freshness>>; blockSize?: number | undefined }>;
  negativeTtlSeconds: number;
  /** Records per upstream block (service/page-blocks.ts); 0 or absent: none. A district's own wins. */
  blockSize?: number;
  /** Blocks read ahead of a sequential reader. */
  readAhead?: number;
}

export interface ResolvedFreshness {
  ttlMs: number;
  staleMs: number;
}

/**
 * How long a page stays fresh and then stale. The most specific setting wins:
 * district+collection, district, collection, global.
 */
export function createCachePolicy(options: CachePolicyOptions) {
  const memo = new Map<string, ResolvedFreshness>();
  return {
    freshness(districtId: string, collection: BaseCollection | undefined): ResolvedFreshness {
      const memoKey = `${districtId}\u0000${collection ?? ''}`;
      let hit = memo.get(memoKey);
      if (hit) return hit;
      const d = options.districts.get(districtId);
      const layers: Array<Freshness | undefined> = [
        collection ? d?.collections[collection] : undefined,
        d,
        collection ? options.collections[collection] : undefined,
        options.defaults,
      ];
      const pick = (k: keyof Freshness) => layers.map((l) => l?.[k]).find((v) => v !== undefined) ?? 0;
      hit = { ttlMs: pick('ttlSeconds') * 1000, staleMs: pick('staleSeconds') * 1000 };
      memo.set(memoKey, hit);
      return hit;
    },
    negativeTtlMs: options.negativeTtlSeconds * 1000,
    blockSize: (districtId: string): number => options.districts.get(districtId)?.blockSize ?? options.blockSize ?? 0,
    readAhead: options.readAhead ?? 0,
  };
}

export type CachePolicy = ReturnType<typeof createCachePolicy>;
