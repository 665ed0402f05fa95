import { tagsForChange } from '../core/oneroster/cache-tags.js';
import type { BaseCollection } from '../core/oneroster/collections.js';
import type { WatermarkCursor } from './watermark.js';

/** What one poll of one collection may read and hold before it gives up on record-level invalidation. */
export interface DeltaLimits {
  /** Records read (changed or already reported). */
  maxChanges: number;
  /** Pages requested. */
  maxPages: number;
  /** Characters of the ids, timestamps and tags kept for the changes read. */
  maxHeldChars: number;
}

// A poll keeps a few short strings per record read (id, timestamp, tags: about 400 bytes of
// heap), never the record, and stops at whichever bound comes first; past it, the whole
// collection is invalidated instead (see collection-wide-tags.ts), which a mass change such as a
// new school year calls for anyway and which caps what a district inventing changes costs.
// 50,000 records is far more than a district changes between two polls outside such a
// roll-over, is 50 requests at the default pageSize, and holds about 20 MB at most. The page
// bound stops a district answering tiny pages; the character bound stops sourcedIds or
// timestamps of megabytes, which a count alone would not.
export const DELTA_LIMITS: Readonly<DeltaLimits> = Object.freeze({ maxChanges: 50_000, maxPages: 10_000, maxHeldChars: 16 * 1024 * 1024 });

/**
 * What a poll keeps of the records it reads: the tags its changes bump, the ids the
 * page walker's repeated-page rule asks about and the watermark's pairs (in `cursor`), never
 * a record; `held` counts their characters, and `full` says when `limits` are reached.
 */
export function changeReducer(collection: BaseCollection, cursor: WatermarkCursor, limits: DeltaLimits) {
  const kept = {
    records: 0,
    changes: 0,
    held: 0,
    tags: new Set<string>(),
    /** Shared with the page walker, which adds the ids of every page it yields. */
    ids: new Set<unknown>(),
    full: (): boolean => kept.records >= limits.maxChanges || kept.held >= limits.maxHeldChars,
    add(r: Record<string, unknown>): void {
      kept.records++;
      const id = typeof r.sourcedId === 'string' ? r.sourcedId : undefined;
      if (id !== undefined && !kept.ids.has(id)) {
        kept.ids.add(id);
        kept.held += id.length;
      }
      if (!cursor.add(r)) return;
      kept.changes++;
      if (id !== undefined && typeof r.dateLastModified === 'string') kept.held += id.length + r.dateLastModified.length;
      for (const t of tagsForChange(collection, r)) {
        if (kept.tags.has(t)) continue;
        kept.tags.add(t);
        kept.held += t.length;
      }
    },
  };
  return kept;
}

export type ChangeReducer = ReturnType<typeof changeReducer>;
