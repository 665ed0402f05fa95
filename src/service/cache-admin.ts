import type { CacheBackend } from '../cache/types.js';
import { ALL_TAG, collectionTag, tagsForChange } from '../core/oneroster/cache-tags.js';
import type { BaseCollection } from '../core/oneroster/collections.js';

/** Operator actions on the cache: each is a generation bump, O(1) and seen by every replica. */
export function createCacheAdmin(backend: CacheBackend) {
  return {
    purgeDistrict: (districtId: string) => backend.cache.bump(districtId, [ALL_TAG]),
    purgeCollection: (districtId: string, collection: BaseCollection) => backend.cache.bump(districtId, [collectionTag(collection)]),
    purgeRecord: (districtId: string, collection: BaseCollection, sourcedId: string) =>
      backend.cache.bump(districtId, tagsForChange(collection, { sourcedId })),
  };
}

export type CacheAdmin = ReturnType<typeof createCacheAdmin>;
