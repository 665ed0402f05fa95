// The default mirror store: copies held in this process (each replica pulls its own). Bounded
// by `maxBytes`, the memory every copy and staging together take (estimated from their JSON, as
// measured: the objects and their kept texts hold about 3.2 bytes of heap per byte of JSON,
// BENCHMARKS.md ## Mirror): a pull that would pass it
// is refused (MirrorFullError) and the copy before it keeps serving.
import { randomBytes } from 'node:crypto';
import { refId } from '../core/oneroster/mapping/guid-refs.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import { MemoryCollection, sourcedIdOf } from './memory-collection.js';
import { diffCollection, MemoryChangeLog } from './change-log.js';
import { dropOldestEarlierCopy, heldBytes, weigh, type Copy, type DistrictState } from './memory-districts.js';
import { sameText } from './record-text.js';
import { retentionOf, type Retention } from './retention.js';
import { MirrorFullError, type CopyMeta, type MirrorChange, type MirrorCollection, type MirrorStore, type ObservedChange, type StagedCopy } from './types.js';

export interface MemoryMirrorStoreOptions {
  /** Most bytes of heap (estimated) held for every district together. Default 2 GiB. */
  maxBytes?: number;
  now?: () => number;
  retention?: Partial<Retention>;
}

export function createMemoryMirrorStore(options: MemoryMirrorStoreOptions = {}): MirrorStore & { bytes(): number } {
  const maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('createMemoryMirrorStore: maxBytes must be a positive integer');
  const epoch = randomBytes(4).toString('hex');
  const districts = new Map<string, DistrictState>();
  const locked = new Set<string>();
  const statuses = new Map<string, string>();
  let staged = 0;

  const retention = retentionOf(options.retention);
  const now = options.now ?? Date.now;

  // Copy numbers outlive drop(): a version names one copy for the store's life, so a pin or a
  // cursor of a district dropped and added again never lands on a newer copy.
  const lastSeq = new Map<string, number>();
  const stateOf = (district: string): DistrictState => {
    let s = districts.get(district);
    if (!s) districts.set(district, (s = { seq: lastSeq.get(district) ?? 0, earlier: [] }));
    return s;
  };
  const held = () => heldBytes(districts.values());

  /** Earlier copies past the snapshot retention, and changes past the change retention, forgotten; then earlier copies while over the bound. */
  function prune(state: DistrictState): void {
    const t = now();
    state.earlier = state.earlier.filter((c) => (c.meta.supersededAt ?? t) + retention.snapshotMs > t);
    state.changes?.prune(t - retention.changeMs);
    while (state.earlier.length > 0 && held() + staged > maxBytes) state.earlier.shift();
  }

  const dropOldestEarlier = () => dropOldestEarlierCopy(districts.values());

  function install(
    district: string,
    collections: Map<MirrorCollection, MemoryCollection>,
    recordsVersion: CopyMeta['recordsVersion'],
    at: number,
    agreedAt: number,
    changes: (seq: number, at: number, before: Copy) => ObservedChange[],
  ): CopyMeta {
    const state = stateOf(district);
    state.seq += 1;
    const seq = state.seq;
    lastSeq.set(district, seq);
    // Copies are published in time order, so changes are observed in order (change-log.ts relies on it).
    const publishedAt = Math.max(at, state.current?.meta.publishedAt ?? -Infinity);
    const counts: CopyMeta['counts'] = {};
    for (const [name, col] of collections) counts[name] = col.records.length;
    const meta: CopyMeta = { district, version: `${epoch}.${seq}`, seq, recordsVersion, publishedAt, agreedAt, counts };
    const before = state.current;
    if (before) {
      (state.changes ??= new MemoryChangeLog(before.meta.seq)).append(seq, changes(seq, publishedAt, before));
      before.meta.supersededAt = publishedAt;
      state.earlier.push(before);
    } else state.changes = new MemoryChangeLog(seq);
    state.current = { meta, collections };
    prune(state);
    return { ...meta };
  }

  function copyOf(meta: CopyMeta): Copy | undefined {
    const s = districts.get(meta.district);
    if (s?.current?.meta.seq === meta.seq) return s.current;
    return s?.earlier.find((c) => c.meta.seq === meta.seq);
  }

  function stage(district: string): StagedCopy {
    const state = stateOf(district);
    const token = Symbol(district);
    state.staging = token;
    const pending = new Map<MirrorCollection, { byId: Map<string, Json>; bytes: number }>();
    let mine = 0;
    const live = () => state.staging === token;
    const release = () => {
      staged -= mine;
      mine = 0;
      pending.clear();
    };
    return {
      async add(collection, records) {
        if (!live()) throw new Error(`mirror: the staging of ${district} was replaced by a newer one`);
        let col = pending.get(collection);
        if (!col) pending.set(collection, (col = { byId: new Map(), bytes: 0 }));
        let room = maxBytes - held();
        for (const r of records) {
          const id = sourcedIdOf(r);
          if (id === undefined) continue;
          const w = weigh(r);
          const before = col.byId.get(id);
          const delta = w - (before ? weigh(before) : 0);
          // Copies kept only for pinned reads give way to a pull before it is refused (their pins answer 410).
          if (staged + delta > room && dropOldestEarlier()) room = maxBytes - held();
          if (staged + delta > room) {
            release();
            throw new MirrorFullError(`the mirror's memory store is full (mirror.maxMemoryBytes = ${maxBytes} bytes)`);
          }
          col.byId.set(id, r);
          col.bytes += delta;
          mine += delta;
          staged += delta;
        }
      },
      async counts() {
        return Object.fromEntries([...pending].map(([c, v]) => [c, v.byId.size]));
      },
      async publish({ recordsVersion, at }) {
        if (!live()) throw new Error(`mirror: the staging of ${district} was replaced by a newer one`);
        const collections = new Map(state.current?.collections ?? []);
        for (const [name, { byId, bytes }] of pending) {
          // A record the pull brought back unchanged is the one already held: copies share it
          // (a copy kept for pinned reads costs its maps, not its records twice), and the
          // pull's duplicate goes to the garbage collector.
          const before = state.current?.collections.get(name)?.byId;
          if (before) {
            for (const [id, r] of byId) {
              const old = before.get(id);
              if (old && old !== r && sameText(old, r)) byId.set(id, old);
            }
          }
          collections.set(name, new MemoryCollection(byId, bytes));
        }
        const names = [...pending.keys()];
        release();
        state.staging = undefined;
        return install(district, collections, recordsVersion, at, at, (seq, when, before) =>
          names.flatMap((name) => diffCollection(seq, when, name, before.collections.get(name)?.byId, collections.get(name)!.byId)),
        );
      },
      async abort() {
        release();
        if (live()) state.staging = undefined;
      },
    };
  }

  function apply(district: string, changes: readonly MirrorChange[], at: number): CopyMeta | undefined {
    const current = districts.get(district)?.current;
    if (!current) return undefined;
    const collections = new Map(current.collections);
    const touchedNames = new Set<MirrorCollection>();
    let changed = false;
    for (const change of changes) {
      const before = collections.get(change.collection);
      const byId = new Map(before?.byId ?? []);
      let bytes = before?.bytes ?? 0;
      let touched = false;
      for (const r of change.upserts) {
        const id = sourcedIdOf(r);
        if (id === undefined) continue;
        const old = byId.get(id);
        const w = weigh(r);
        if (old && sameText(old, r)) continue;
        bytes += w - (old ? weigh(old) : 0);
        byId.set(id, r);
        touched = true;
      }
      for (const id of change.deletes ?? []) {
        const old = byId.get(id);
        if (!old) continue;
        bytes -= weigh(old);
        byId.delete(id);
        touched = true;
      }
      if (touched) {
        collections.set(change.collection, new MemoryCollection(byId, bytes));
        touchedNames.add(change.collection);
      }
      changed ||= touched;
    }
    if (!changed) return undefined;
    return install(district, collections, current.meta.recordsVersion, at, current.meta.agreedAt, (seq, when, before) =>
      [...touchedNames].flatMap((name) => diffCollection(seq, when, name, before.collections.get(name)?.byId, collections.get(name)!.byId)),
    );
  }

  return {
    kind: 'memory',
    bytes: () => held() + staged,
    async withPullLock(district, fn) {
      if (locked.has(district)) return { ran: false };
      locked.add(district);
      try {
        return { ran: true, value: await fn() };
      } finally {
        locked.delete(district);
      }
    },
    async stage(district) {
      return stage(district);
    },
    async current(district) {
      const meta = districts.get(district)?.current?.meta;
      return meta && { ...meta };
    },
    async copy(district, version) {
      const s = districts.get(district);
      const meta = [s?.current, ...(s?.earlier ?? [])].find((c) => c?.meta.version === version)?.meta;
      return meta && { ...meta };
    },
    async changes(district, q) {
      const s = districts.get(district);
      return s?.current ? s.changes?.after(q, s.current.meta.seq) : undefined;
    },
    async changedSince(meta, collection, since, inclusive, max) {
      const s = districts.get(meta.district);
      if (!copyOf(meta)) return [];
      return s?.changes ? s.changes.since(meta.seq, collection, since, inclusive, max) : [];
    },
    async changeLog(district) {
      const s = districts.get(district);
      return s?.current ? s.changes?.info() : undefined;
    },
    async query(meta, q) {
      const copy = copyOf(meta);
      const col = copy?.collections.get(q.collection);
      if (!col) return { records: [], total: 0 };
      if (!q.via) return col.query(q);
      // The join: the GUIDRefs its records name, as ids (with the query's own ids, both must hold).
      const { via } = q;
      const read = copy!.collections.get(via.collection)?.query({ collection: via.collection, where: via.where, offset: 0, limit: Infinity });
      const named = new Set((read?.records ?? []).flatMap((r) => refId(r[via.pick]) ?? []));
      const ids = q.ids ? q.ids.filter((id) => named.has(id)) : [...named];
      return col.query({ ...q, via: undefined, ids });
    },
    async get(meta, collection, sourcedId) {
      return copyOf(meta)?.collections.get(collection)?.byId.get(sourcedId);
    },
    async apply(district, changes, at) {
      return apply(district, changes, at);
    },
    async agreed(district, at) {
      const current = districts.get(district)?.current;
      if (current) current.meta.agreedAt = at;
    },
    async readStatus(district) {
      return statuses.get(district);
    },
    async writeStatus(district, json) {
      statuses.set(district, json);
    },
    async drop(district) {
      districts.delete(district);
      statuses.delete(district);
    },
    async close() {
      districts.clear();
    },
  };
}
