// Whether a full pull may become the copy every read is answered from. A district that
// fails half way, loses its database behind a working API, or answers an empty list after a
// bad deploy must not wipe out a good copy: the pull is published only when every
// collection was read to its end, each count agrees with the district's own X-Total-Count,
// nothing that had records is now empty, and no collection shrank by more than the guard.
// Otherwise the copy before keeps serving. Pure: the pull reports, this judges.
import type { MirrorCollection } from './types.js';

export interface PulledCollection {
  collection: MirrorCollection;
  /** Records staged (sourcedIds counted once). */
  count: number;
  /** The district's X-Total-Count for the whole collection, when it sent one. */
  total?: number | undefined;
  /** Read until the district said the collection ended (an empty page, its total, no rel="next"). */
  complete: boolean;
}

export type Verdict = { publish: true } | { publish: false; collection?: MirrorCollection; reason: string };

export interface GuardOptions {
  shrinkGuardPercent: number;
  /** An operator's forced refresh: a shrink beyond the guard is accepted (completeness and counts still hold). */
  force?: boolean;
}

export function judgePull(pulled: readonly PulledCollection[], previous: Partial<Record<MirrorCollection, number>> | undefined, options: GuardOptions): Verdict {
  for (const p of pulled) {
    if (!p.complete) return { publish: false, collection: p.collection, reason: `${p.collection} was not read to its end` };
    if (p.total !== undefined && p.total !== p.count) {
      return { publish: false, collection: p.collection, reason: `${p.collection}: ${p.count} records read, the district counts ${p.total}` };
    }
    const before = previous?.[p.collection];
    if (before === undefined || before === 0) continue;
    if (p.count === 0) return { publish: false, collection: p.collection, reason: `${p.collection} is empty; the copy before held ${before}` };
    const dropped = ((before - p.count) / before) * 100;
    if (!options.force && dropped > options.shrinkGuardPercent) {
      return {
        publish: false,
        collection: p.collection,
        reason: `${p.collection} would shrink from ${before} to ${p.count} records (${Math.round(dropped)}% > shrinkGuardPercent ${options.shrinkGuardPercent})`,
      };
    }
  }
  // A first copy with no record at all is a district answering nothing, not a district.
  if (!previous && pulled.length > 0 && pulled.every((p) => p.count === 0)) return { publish: false, reason: 'every collection is empty' };
  return { publish: true };
}
