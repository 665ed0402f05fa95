// What the memory store holds per district, and what it all weighs against mirror.maxMemoryBytes.
import type { Json } from '../core/oneroster/mapping/types.js';
import type { MemoryChangeLog } from './change-log.js';
import type { MemoryCollection } from './memory-collection.js';
import { weightOf } from './record-text.js';
import type { CopyMeta, MirrorCollection } from './types.js';

export interface Copy {
  meta: CopyMeta;
  collections: ReadonlyMap<MirrorCollection, MemoryCollection>;
}

export interface DistrictState {
  current?: Copy;
  /** Copies no longer current, oldest first, kept for the snapshot retention so a client paging one finishes on it. */
  earlier: Copy[];
  changes?: MemoryChangeLog;
  staging?: symbol;
  seq: number;
}

/**
 * Heap per record of an earlier copy's collection beyond its records: its maps and arrays. The
 * records themselves are the current copy's, except the few a later copy changed (a publish
 * keeps the object of every record that came back unchanged).
 */
const EARLIER_BYTES_PER_RECORD = 120;

/** Heap per byte of a record's JSON: its object and its kept text (record-text.ts), measured at 50k users. */
export const HEAP_PER_JSON_BYTE = 3.2;
/** What a record weighs against maxBytes: the heap it is estimated to take. */
export const weigh = (r: Json) => Math.ceil(weightOf(r) * HEAP_PER_JSON_BYTE);

/**
 * Every current collection once (copies share the collections a pull or delta left alone),
 * earlier copies' own collections by their overhead, and the change logs.
 */
export function heldBytes(districts: Iterable<DistrictState>): number {
  const states = [...districts];
  const current = new Set<MemoryCollection>();
  for (const s of states) for (const col of s.current?.collections.values() ?? []) current.add(col);
  const earlier = new Set<MemoryCollection>();
  for (const s of states) for (const c of s.earlier) for (const col of c.collections.values()) if (!current.has(col)) earlier.add(col);
  let n = 0;
  for (const col of current) n += col.bytes;
  for (const col of earlier) n += col.records.length * EARLIER_BYTES_PER_RECORD;
  for (const s of states) n += s.changes?.weight(HEAP_PER_JSON_BYTE) ?? 0;
  return n;
}

/** Forgets the oldest copy no longer current, of any district; false when there is none. */
export function dropOldestEarlierCopy(districts: Iterable<DistrictState>): boolean {
  let oldest: DistrictState | undefined;
  for (const st of districts) {
    const c = st.earlier[0];
    if (c && (!oldest || (c.meta.supersededAt ?? 0) < (oldest.earlier[0]!.meta.supersededAt ?? 0))) oldest = st;
  }
  oldest?.earlier.shift();
  return oldest !== undefined;
}
