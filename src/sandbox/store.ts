// In-memory record store shared by both renderings. Records are frozen and replaced on
// every change, and per-collection generation counters move on each write, so the sorted
// listings and relationship indexes are rebuilt lazily instead of being patched.

import {
  COLLECTIONS,
  type AnyRecord,
  type CollectionName,
  type RecordPatch,
  type RecordTypes,
} from './records.js';

type Tables = { [C in CollectionName]: Map<string, RecordTypes[C]> };

export class SandboxStore {
  private readonly tables: Tables;
  private readonly sorted = new Map<CollectionName, { gen: number; rows: readonly AnyRecord[] }>();
  private readonly indexes = new Map<string, { gen: number; index: Map<string, AnyRecord[]> }>();
  private readonly collectionGen = new Map<CollectionName, number>();
  private gen = 0;

  constructor(
    data: { [C in CollectionName]: readonly RecordTypes[C][] },
    private readonly now: () => number,
  ) {
    const tables = {} as Record<CollectionName, Map<string, AnyRecord>>;
    for (const c of COLLECTIONS) {
      tables[c] = new Map(data[c].map((r) => [r.sourcedId, Object.freeze(r)]));
    }
    this.tables = tables as Tables;
  }

  /** Moves on every write to any collection (tests can use it to see that something changed). */
  get generation(): number {
    return this.gen;
  }

  /** All records of a collection, ordered by sourcedId. */
  list<C extends CollectionName>(collection: C): readonly RecordTypes[C][] {
    const gen = this.genOf(collection);
    const hit = this.sorted.get(collection);
    if (hit && hit.gen === gen) return hit.rows as readonly RecordTypes[C][];
    const rows = [...this.tables[collection].values()].sort((a, b) => compareIds(a.sourcedId, b.sourcedId));
    this.sorted.set(collection, { gen, rows });
    return rows;
  }

  get<C extends CollectionName>(collection: C, sourcedId: string): RecordTypes[C] | undefined {
    return this.tables[collection].get(sourcedId);
  }

  has(collection: CollectionName, sourcedId: string): boolean {
    return this.tables[collection].has(sourcedId);
  }

  count(collection: CollectionName): number {
    return this.tables[collection].size;
  }

  /**
   * Changes fields of an existing record; dateLastModified moves to now(), unless `timestamp`
   * is false (a district that does not timestamp every change). Throws if unknown.
   */
  update<C extends CollectionName>(collection: C, sourcedId: string, patch: RecordPatch<C>, options: { timestamp?: boolean } = {}): RecordTypes[C] {
    const old = this.tables[collection].get(sourcedId);
    if (!old) throw new Error(`sandbox store: no ${collection} record ${sourcedId}`);
    const next = { ...old, ...patch, sourcedId, dateLastModified: options.timestamp === false ? old.dateLastModified : this.stamp() } as RecordTypes[C];
    this.write(collection, next);
    return next;
  }

  /** The OneRoster soft delete: the record stays, with status tobedeleted. */
  markToBeDeleted<C extends CollectionName>(collection: C, sourcedId: string): RecordTypes[C] {
    return this.update(collection, sourcedId, { status: 'tobedeleted' } as RecordPatch<C>);
  }

  /** Creates or replaces a whole record (dateLastModified = now()). */
  put<C extends CollectionName>(
    collection: C,
    record: Omit<RecordTypes[C], 'dateLastModified'> & { dateLastModified?: string },
  ): 'created' | 'replaced' {
    const existed = this.tables[collection].has(record.sourcedId);
    this.write(collection, { ...record, dateLastModified: this.stamp() } as RecordTypes[C]);
    return existed ? 'replaced' : 'created';
  }

  /** Hard delete: the record disappears from every listing. */
  remove(collection: CollectionName, sourcedId: string): boolean {
    const removed = this.tables[collection].delete(sourcedId);
    if (removed) this.bump(collection);
    return removed;
  }

  /** Records grouped by the value of one reference field (e.g. enrollments by classId), cached per generation. */
  groupBy<C extends CollectionName>(collection: C, key: keyof RecordTypes[C] & string): ReadonlyMap<string, readonly RecordTypes[C][]> {
    const name = `${collection}.${key}`;
    const gen = this.genOf(collection);
    const hit = this.indexes.get(name);
    if (hit && hit.gen === gen) return hit.index as Map<string, RecordTypes[C][]>;
    const index = new Map<string, RecordTypes[C][]>();
    for (const rec of this.list(collection)) {
      const value = rec[key];
      const keys = Array.isArray(value) ? (value as unknown[]) : [value];
      for (const k of keys) {
        if (typeof k !== 'string') continue;
        const bucket = index.get(k);
        if (bucket) bucket.push(rec);
        else index.set(k, [rec]);
      }
    }
    this.indexes.set(name, { gen, index: index as Map<string, AnyRecord[]> });
    return index;
  }

  private write<C extends CollectionName>(collection: C, record: RecordTypes[C]): void {
    this.tables[collection].set(record.sourcedId, Object.freeze(record) as RecordTypes[C]);
    this.bump(collection);
  }

  private bump(collection: CollectionName): void {
    this.gen++;
    this.collectionGen.set(collection, this.gen);
  }

  private genOf(collection: CollectionName): number {
    return this.collectionGen.get(collection) ?? 0;
  }

  /** now() as an ISO 8601 UTC timestamp, the form dateLastModified takes. */
  stamp(): string {
    return new Date(this.now()).toISOString();
  }
}

/** Plain code-unit order, the same on every platform (localeCompare is not). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
