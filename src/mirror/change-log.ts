// A district's observed changes held in process (the memory store's; PostgreSQL keeps them in
// mirror_changes, postgres-changes.ts): what each copy created, changed and deleted, compared by
// content, in the feed's order (copy, collection in MIRROR_COLLECTIONS order, sourcedId), kept
// for the change retention and no longer.
import type { Json } from '../core/oneroster/mapping/types.js';
import { compareIds } from '../core/oneroster/record-order.js';
import { sameText, weightOf } from './record-text.js';
import { collectionNumber, countChanges } from './retention.js';
import type { ChangeLog, ChangePosition, ChangesQuery, MirrorCollection, ObservedChange } from './types.js';

/** Feed order of a change against a place: negative when the change comes first. */
export function compareToPosition(change: ObservedChange, at: ChangePosition): number {
  if (change.seq !== at.seq) return change.seq - at.seq;
  if (at.collection === undefined) return -1; // the end of copy `seq` comes after all its changes
  const rank = collectionNumber(change.collection) - collectionNumber(at.collection);
  return rank !== 0 ? rank : compareIds(change.sourcedId, at.sourcedId ?? '');
}

/** What changed in one collection between two states of it (`before` undefined: the collection is new), in sourcedId order. */
export function diffCollection(
  seq: number,
  at: number,
  collection: MirrorCollection,
  before: ReadonlyMap<string, Json> | undefined,
  after: ReadonlyMap<string, Json>,
): ObservedChange[] {
  const out: ObservedChange[] = [];
  for (const [sourcedId, record] of after) {
    const old = before?.get(sourcedId);
    if (!old) out.push({ seq, collection, sourcedId, op: 'created', at, record });
    else if (old !== record && !sameText(old, record)) out.push({ seq, collection, sourcedId, op: 'updated', at, record });
  }
  for (const [sourcedId, record] of before ?? []) {
    if (!after.has(sourcedId)) out.push({ seq, collection, sourcedId, op: 'deleted', at, record });
  }
  return out.sort((a, b) => compareIds(a.sourcedId, b.sourcedId));
}

/** Heap an entry takes beyond its record (which a copy usually holds too). */
const ENTRY_BYTES = 96;

export class MemoryChangeLog {
  private entries: ObservedChange[] = [];
  private tombstoneBytes = 0;
  private tombstones = 0;
  private last: ChangeLog['last'];

  /** `horizon`: the copy whose changes and all before it are not held (the district's first copy). */
  constructor(private horizon: number) {}

  /** Adds copy `seq`'s changes. */
  append(seq: number, changes: readonly ObservedChange[]): void {
    const sorted = [...changes].sort((a, b) => collectionNumber(a.collection) - collectionNumber(b.collection) || compareIds(a.sourcedId, b.sourcedId));
    for (const c of sorted) {
      this.entries.push(c);
      if (c.op === 'deleted') {
        this.tombstoneBytes += weightOf(c.record);
        this.tombstones++;
      }
    }
    this.last = { seq, changed: countChanges(sorted) };
  }

  /** Forgets changes observed before `cutoff` (ms epoch) and every change of their copies and earlier ones. */
  prune(cutoff: number): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.at < cutoff) n++;
    if (n === 0) return;
    const lastSeq = this.entries[n - 1]!.seq;
    while (n < this.entries.length && this.entries[n]!.seq <= lastSeq) n++;
    for (const c of this.entries.slice(0, n)) {
      if (c.op !== 'deleted') continue;
      this.tombstoneBytes -= weightOf(c.record);
      this.tombstones--;
    }
    this.entries = this.entries.slice(n);
    this.horizon = Math.max(this.horizon, lastSeq);
  }

  /** The changes after `q.after` (undefined when they are no longer all held, or the place is beyond `current`). */
  after(q: ChangesQuery, current: number): ObservedChange[] | undefined {
    // A place inside the horizon's copy is gone too: that copy's changes are no longer all held.
    if (q.after.seq < this.horizon || (q.after.seq === this.horizon && q.after.collection !== undefined) || q.after.seq > current) return undefined;
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareToPosition(this.entries[mid]!, q.after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const wanted = new Set(q.collections);
    const out: ObservedChange[] = [];
    for (let i = lo; i < this.entries.length && out.length < q.limit; i++) {
      const c = this.entries[i]!;
      if (c.seq > q.upTo) break;
      if (wanted.has(c.collection)) out.push(c);
    }
    return out;
  }

  /**
   * The latest change of each record of `collection` among those after `since` up to copy
   * `upTo`; undefined past `max` records. Entries are in the order they were observed, so the
   * walk back stops at the first one at or before `since`.
   */
  since(upTo: number, collection: MirrorCollection, since: number, inclusive: boolean, max: number): ObservedChange[] | undefined {
    const latest = new Map<string, ObservedChange>();
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const c = this.entries[i]!;
      if (inclusive ? c.at < since : c.at <= since) break;
      if (c.seq > upTo || c.collection !== collection || latest.has(c.sourcedId)) continue;
      latest.set(c.sourcedId, c);
      if (latest.size > max) return undefined;
    }
    return [...latest.values()];
  }

  info(): ChangeLog {
    return {
      horizon: this.horizon,
      held: this.entries.length,
      tombstones: this.tombstones,
      ...(this.entries.length ? { oldestAt: this.entries[0]!.at } : {}),
      ...(this.last ? { last: this.last } : {}),
    };
  }

  /** What the log adds to the copies': the JSON bytes of deleted records (held only here), and heap per entry. */
  weight(heapPerJsonByte: number): number {
    return this.tombstoneBytes * heapPerJsonByte + this.entries.length * ENTRY_BYTES;
  }
}
