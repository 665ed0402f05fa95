// The default mirror store: copies held in this process (each replica pulls its own). Bounded
// by `maxBytes`, the memory every copy and staging together take (estimated from their JSON, as
// measured: the objects and their kept texts hold about 3.2 bytes of heap per byte of JSON,
// BENCHMARKS.md ## Mirror): a pull that would pass it
// is refused (MirrorFullError) and the copy before it keeps serving.
import { randomBytes } from 'node:crypto';
import { refId } from '../core/oneroster/mapping/guid-refs.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import { MemoryCollection, sourcedIdOf } from './memory-collection.js';
import { sameText, weightOf } from './record-text.js';
import { MirrorFullError, type CopyMeta, type MirrorChange, type MirrorCollection, type MirrorStore, type StagedCopy } from './types.js';

export interface MemoryMirrorStoreOptions {
  /** Most bytes of heap (estimated) held for every district together. Default 2 GiB. */
  maxBytes?: number;
  now?: () => number;
}

interface Copy {
  meta: CopyMeta;
  collections: ReadonlyMap<MirrorCollection, MemoryCollection>;
}

interface DistrictState {
  current?: Copy;
  /** The copy before the current one, kept so a read that started on it finishes on it. */
  previous?: Copy;
  staging?: symbol;
  seq: number;
}

/** Heap per byte of a record's JSON: its object and its kept text (record-text.ts), measured at 50k users. */
const HEAP_PER_JSON_BYTE = 3.2;
/** What a record weighs against maxBytes: the heap it is estimated to take. */
const weigh = (r: Json) => Math.ceil(weightOf(r) * HEAP_PER_JSON_BYTE);

export function createMemoryMirrorStore(options: MemoryMirrorStoreOptions = {}): MirrorStore & { bytes(): number } {
  const maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('createMemoryMirrorStore: maxBytes must be a positive integer');
  const epoch = randomBytes(4).toString('hex');
  const districts = new Map<string, DistrictState>();
  const locked = new Set<string>();
  const statuses = new Map<string, string>();
  let staged = 0;

  const stateOf = (district: string): DistrictState => {
    let s = districts.get(district);
    if (!s) districts.set(district, (s = { seq: 0 }));
    return s;
  };
  /** Every collection held once (copies share the collections a pull or delta left alone), plus staging. */
  const held = () => {
    const cols = new Set<MemoryCollection>();
    for (const s of districts.values()) for (const c of [s.current, s.previous]) for (const col of c?.collections.values() ?? []) cols.add(col);
    return [...cols].reduce((n, col) => n + col.bytes, 0);
  };

  function install(district: string, collections: Map<MirrorCollection, MemoryCollection>, recordsVersion: CopyMeta['recordsVersion'], at: number, agreedAt = at): CopyMeta {
    const state = stateOf(district);
    state.seq += 1;
    const counts: CopyMeta['counts'] = {};
    for (const [name, col] of collections) counts[name] = col.records.length;
    const meta: CopyMeta = { district, version: `${epoch}.${state.seq}`, seq: state.seq, recordsVersion, publishedAt: at, agreedAt, counts };
    state.previous = state.current;
    state.current = { meta, collections };
    return { ...meta };
  }

  function copyOf(meta: CopyMeta): Copy | undefined {
    const s = districts.get(meta.district);
    return [s?.current, s?.previous].find((c) => c?.meta.seq === meta.seq);
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
        const room = maxBytes - held();
        for (const r of records) {
          const id = sourcedIdOf(r);
          if (id === undefined) continue;
          const w = weigh(r);
          const before = col.byId.get(id);
          const delta = w - (before ? weigh(before) : 0);
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
        for (const [name, { byId, bytes }] of pending) collections.set(name, new MemoryCollection(byId, bytes));
        release();
        state.staging = undefined;
        return install(district, collections, recordsVersion, at);
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
      if (touched) collections.set(change.collection, new MemoryCollection(byId, bytes));
      changed ||= touched;
    }
    return changed ? install(district, collections, current.meta.recordsVersion, at, current.meta.agreedAt) : undefined;
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
      const meta = [s?.current, s?.previous].find((c) => c?.meta.version === version)?.meta;
      return meta && { ...meta };
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
