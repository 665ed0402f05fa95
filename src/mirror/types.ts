// The whole-district mirror's store: one interface, two implementations (memory-store.ts in
// process, postgres-store.ts shared by every replica), one contract suite
// (test/mirror/store-contract.ts) run against both.
//
// A store holds, per district, numbered *copies*. A full pull is staged (invisible), then
// published atomically as the next copy; a delta is applied as the next copy when anything in
// it differs. Copies are read *as of* their version while they are retained, so a client paging
// one copy sees one copy however the district changes meanwhile (issue 16 pins them), and the
// store can tell what was created, changed and deleted between two copies (issue 16's feed).
import type { Version } from '../core/oneroster/endpoints.js';
import type { FilterNode } from '../core/oneroster/filter.js';
import type { Json } from '../core/oneroster/mapping/types.js';

import { MIRROR_COLLECTIONS, type MirrorCollection } from '../core/oneroster/collections.js';

export { MIRROR_COLLECTIONS, type MirrorCollection } from '../core/oneroster/collections.js';

export function isMirrorCollection(name: string): name is MirrorCollection {
  return (MIRROR_COLLECTIONS as readonly string[]).includes(name);
}

/** One published copy of a district. */
export interface CopyMeta {
  district: string;
  /**
   * Opaque and unique for the store's life (X-Mirror-Version, issue 16's `snapshot`):
   * `${epoch}.${seq}`, the epoch telling one store (a memory store's process, a PostgreSQL
   * database) from another so a pin never lands on another store's copy of the same number.
   */
  version: string;
  /** Increases by one with every copy of the district. */
  seq: number;
  /** The OneRoster version the records are in (the district's). */
  recordsVersion: Version;
  /** When this copy was published (ms epoch). */
  publishedAt: number;
  /** Last time this copy was known to agree with the district (a publish, or a delta sync that completed); `Age` counts from here. */
  agreedAt: number;
  /** Records per collection in this copy. */
  counts: Partial<Record<MirrorCollection, number>>;
  /**
   * When the next copy was published (ms epoch): set on a copy that is no longer current, as
   * `copy()` finds it, so a reader can tell how long ago it stopped being current.
   */
  supersededAt?: number;
}

export type ChangeOp = 'created' | 'updated' | 'deleted';
export type ChangeCounts = Record<ChangeOp, number>;

/**
 * One change the mirror observed between a copy and the one before it, compared by content:
 * a record that appeared, one whose content differs, one that is gone. A district's first copy
 * records none (there is nothing to compare it with); every copy after it records all of them.
 */
export interface ObservedChange {
  /** The copy that made the change. */
  seq: number;
  collection: MirrorCollection;
  sourcedId: string;
  op: ChangeOp;
  /** When the gateway observed it: the copy's publishedAt (ms epoch). */
  at: number;
  /** The record as it became (created, updated), or as it was last known (deleted). */
  record: Json;
}

/**
 * A place in a district's changes, in their order: copy, then collection (MIRROR_COLLECTIONS
 * order), then sourcedId. `{ seq }` is the end of copy seq (every change up to it seen);
 * with `collection` and `sourcedId`, just after that change of copy seq.
 */
export interface ChangePosition {
  seq: number;
  collection?: MirrorCollection;
  sourcedId?: string;
}

export interface ChangesQuery {
  after: ChangePosition;
  /** The last copy whose changes may be read (the district's current one, as the reader knows it). */
  upTo: number;
  collections: readonly MirrorCollection[];
  limit: number;
}

/** What a district's change record holds. */
export interface ChangeLog {
  /** Every change of a copy after this one is held (the district's first copy, or the last one pruned). */
  horizon: number;
  /** The oldest change held (ms epoch), if any. */
  oldestAt?: number;
  /** Changes held, and of them deletions (tombstones: the last known record of each). */
  held: number;
  tombstones: number;
  /** The latest copy that recorded changes, and what it recorded per collection. */
  last?: { seq: number; changed: Partial<Record<MirrorCollection, ChangeCounts>> };
}

/**
 * One query over one collection of one copy. Semantics (both stores, the contract suite checks):
 * - `where` is evaluated as core/oneroster/filter.ts `matchesFilter` evaluates it, on the
 *   records as stored (their own field names and shapes);
 * - `ids`, when given, keeps only records whose sourcedId is in it (joins: a class's users);
 *   `exclude` leaves out those whose sourcedId is in it;
 * - order is record-order.ts `sortRecords` by `sort` (absent last; ties by sourcedId), or
 *   sourcedId ascending by UTF-16 code unit when there is no sort;
 * - `total` counts every record that matches, `records` is the slice [offset, offset + limit).
 */
export interface MirrorQuery {
  collection: MirrorCollection;
  where?: FilterNode | undefined;
  ids?: readonly string[] | undefined;
  sort?: string | undefined;
  desc?: boolean | undefined;
  offset: number;
  limit: number;
  /**
   * Keeps only records some record of another collection names (a join: a class's users are
   * the users its enrollments name): records of `via.collection` matching `via.where` are read,
   * and each one's `via.pick` field, a GUIDRef, gives a sourcedId (core refId). With `ids` too,
   * both must keep a record. A store may resolve it wherever it likes (PostgreSQL in the same
   * statement, so the ids never travel).
   */
  via?: MirrorJoin | undefined;
  /** Leaves these records out (a dateLastModified> read answers them apart, as observed). */
  exclude?: readonly string[] | undefined;
}

export interface MirrorJoin {
  collection: MirrorCollection;
  where?: FilterNode | undefined;
  /** A GUIDRef field of the via records: the relationship routes join on `user` and `class`. */
  pick: 'user' | 'class';
}

export interface MirrorPage {
  records: Json[];
  total: number;
  /**
   * The records as the JSON array text the store already had them in (PostgreSQL's json_agg),
   * when it has it: an answer of records as kept is then built from the text, not serialized again.
   */
  text?: string;
  /**
   * How many records the page holds, when the store knows it without making them: with `text`,
   * PostgreSQL makes `records` only when they are first read (an answer built from `text` never
   * reads them).
   */
  size?: number;
}

/** A full pull being written: nothing of it is visible until publish; abort (or a crash) leaves nothing behind. */
export interface StagedCopy {
  /** Adds records of a collection (a page at a time); a sourcedId added twice keeps the last. */
  add(collection: MirrorCollection, records: readonly Json[]): Promise<void>;
  /** Records added so far per collection (after de-duplication by sourcedId). */
  counts(): Promise<Partial<Record<MirrorCollection, number>>>;
  /**
   * Makes the staged records the district's next copy, all collections at once: a collection
   * staged is replaced whole (records missing from it are deleted in the new copy); one never
   * staged is carried over from the previous copy unchanged.
   */
  publish(info: { recordsVersion: Version; at: number }): Promise<CopyMeta>;
  abort(): Promise<void>;
}

/** Records of one collection a delta sync found changed (upserts) or the district says are gone (deletes, by sourcedId). */
export interface MirrorChange {
  collection: MirrorCollection;
  upserts: readonly Json[];
  deletes?: readonly string[];
}

export interface MirrorStore {
  readonly kind: 'memory' | 'postgres';
  /**
   * Runs `fn` holding the district's pull lock: at most one holder at a time across every
   * process sharing the store (a PostgreSQL advisory lock, released if its process dies).
   * `{ ran: false }` at once when another holds it.
   */
  withPullLock<T>(district: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** Starts staging a full pull of the district (discarding any earlier staging a dead puller left). */
  stage(district: string): Promise<StagedCopy>;
  /** The district's latest published copy. */
  current(district: string): Promise<CopyMeta | undefined>;
  /** A published copy by its version string, while retained (the current copy always is). */
  copy(district: string, version: string): Promise<CopyMeta | undefined>;
  query(copy: CopyMeta, q: MirrorQuery): Promise<MirrorPage>;
  /** One record by sourcedId in a copy. */
  get(copy: CopyMeta, collection: MirrorCollection, sourcedId: string): Promise<Json | undefined>;
  /**
   * Applies a delta to the current copy. When any upsert differs in content from the stored
   * record (or is new), or a delete removes one, the result is published as the next copy
   * (publishedAt `at`, agreedAt carried over from the copy before) and returned; otherwise
   * nothing is published and undefined is returned. agreedAt moves only by `agreed()` (the
   * caller knows whether the delta was complete). No copy yet: nothing happens (undefined).
   */
  apply(district: string, changes: readonly MirrorChange[], at: number): Promise<CopyMeta | undefined>;
  /** The current copy agreed with the district at `at` (a delta sync that found nothing). */
  agreed(district: string, at: number): Promise<void>;
  /**
   * The changes after `q.after`, in order, of the given collections, up to copy `q.upTo`, at most
   * `q.limit`; undefined when changes after that place are no longer all held (pruned past it,
   * or a place this store never had: a cursor from another store).
   */
  changes(district: string, q: ChangesQuery): Promise<ObservedChange[] | undefined>;
  /**
   * The latest change of each record of a collection, among changes after `since` (ms epoch;
   * at or after it with `inclusive`) up to the copy: what a `dateLastModified>` read adds.
   * Undefined when there are more than `max` such records.
   */
  changedSince(copy: CopyMeta, collection: MirrorCollection, since: number, inclusive: boolean, max: number): Promise<ObservedChange[] | undefined>;
  /** What the district's change record holds; undefined before its first copy. */
  changeLog(district: string): Promise<ChangeLog | undefined>;
  /** The district's pull status (last full pull, refusal, error: JSON text), shared like the copies so every replica shows the same. */
  readStatus(district: string): Promise<string | undefined>;
  writeStatus(district: string, json: string): Promise<void>;
  /** Forgets the district: every copy, staging and lock state (a district removed from the config). */
  drop(district: string): Promise<void>;
  /** Whether the store answers a trivial query within `timeoutMs` (metrics); absent when in-process. */
  ping?(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** A store refusing to hold more (memory bound): the pull is refused, the old copy serves on. */
export class MirrorFullError extends Error {
  override readonly name = 'MirrorFullError';
}
