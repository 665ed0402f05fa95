// How long a mirror store keeps what issue 16's readers come back for: copies no longer current
// (a client paging a pinned snapshot), and observed changes (the feed, correct deltas).
import { MIRROR_COLLECTIONS } from '../core/oneroster/collections.js';
import type { ChangeCounts, MirrorCollection, ObservedChange } from './types.js';

export interface Retention {
  /** A copy stays readable this long after the next one was published (mirror.snapshotRetentionSeconds). */
  snapshotMs: number;
  /** Observed changes are kept this long (mirror.changeRetentionDays). */
  changeMs: number;
}

export const DEFAULT_RETENTION: Retention = { snapshotMs: 3_600_000, changeMs: 30 * 86_400_000 };

export function retentionOf(given: Partial<Retention> | undefined): Retention {
  const r = { ...DEFAULT_RETENTION, ...given };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`mirror store: retention.${k} must be a non-negative integer (ms)`);
  }
  return r;
}

/** Changes per collection and operation. */
export function countChanges(changes: readonly ObservedChange[]): Partial<Record<MirrorCollection, ChangeCounts>> {
  const out: Partial<Record<MirrorCollection, ChangeCounts>> = {};
  for (const c of changes) (out[c.collection] ??= { created: 0, updated: 0, deleted: 0 })[c.op]++;
  return out;
}

/** A feed collection's number (its MIRROR_COLLECTIONS place), as PostgreSQL stores it. */
export const collectionNumber = (c: MirrorCollection): number => MIRROR_COLLECTIONS.indexOf(c);
