import type { CacheBackend } from '../cache/types.js';
import { collectionTag, idTag, listTag, routeCollection, tagsForChange, tagsForRoute } from '../core/oneroster/cache-tags.js';
import { DELTA_COLLECTIONS, type BaseCollection } from '../core/oneroster/collections.js';
import { ENDPOINTS } from '../core/oneroster/endpoints.js';
import { versionRoot } from '../core/oneroster/paths.js';
import type { District, DistrictRegistry } from '../routing/districts.js';
import { isRepeatedPage } from '../service/paging.js';
import { readChangePage, type ChangePage } from './change-page.js';
import { parseWatermark, serializeWatermark, watermarkCursor, type Watermark, type WatermarkCursor } from './watermark.js';

export interface DeltaSyncOptions {
  districts: DistrictRegistry;
  backend: CacheBackend;
  logger: { info(o: object): void; warn(o: object): void };
  intervalMs: number;
  overlapMs: number;
  pageSize: number;
  collections?: readonly BaseCollection[];
  now?: () => number;
  /** Overrides the bounds of one collection's poll (tests); DELTA_LIMITS otherwise. */
  limits?: Partial<DeltaLimits>;
}

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
// collection is invalidated instead (see collectionWideTags), which a mass change such as a
// new school year calls for anyway and which caps what a district inventing changes costs.
// 50,000 records is far more than a district changes between two polls outside such a
// roll-over, is 50 requests at the default pageSize, and holds about 20 MB at most. The page
// bound stops a district answering tiny pages; the character bound stops sourcedIds or
// timestamps of megabytes, which a count alone would not.
export const DELTA_LIMITS: Readonly<DeltaLimits> = Object.freeze({ maxChanges: 50_000, maxPages: 10_000, maxHeldChars: 16 * 1024 * 1024 });

export interface CollectionReport {
  collection: BaseCollection;
  outcome: 'synced' | 'unsupported' | 'failed' | 'skipped';
  changes: number;
  pages: number;
  watermark?: string;
  /** The poll passed DELTA_LIMITS: every page of the collection was invalidated, not record by record. */
  collectionWide?: true;
}

/** A district's last delta sync as every replica reads it (GET /districts). */
export interface SyncStatus {
  lastRunAt: string;
  /**
   * Changes up to this instant are known for every synced collection (the oldest of their
   * watermarks); undefined when no collection could be synced.
   */
  watermark?: string;
  changes: number;
  collections: Record<string, { outcome: CollectionReport['outcome']; watermark?: string }>;
}

export interface SyncReport {
  district: string;
  ran: boolean;
  reason?: string;
  collections: CollectionReport[];
}

// A filter the district rejected is remembered for a day, then tried again.
const UNSUPPORTED_TTL_MS = 24 * 3600_000;
// A district gone for a month no longer needs its last sync remembered.
const STATUS_TTL_MS = 30 * 24 * 3600_000;

/** What the repeated-page guard compares of a page: its length and three records (see isRepeatedPage). */
interface PageSample {
  length: number;
  picks: readonly unknown[];
}
const sampleOf = (records: ReadonlyArray<Record<string, unknown>>): PageSample => ({
  length: records.length,
  picks: [records[0], records[records.length >> 1], records[records.length - 1]],
});

/** The page was read before: every record's sourcedId already seen, or the same page again (no ids). */
function repeats(previous: PageSample | undefined, records: ReadonlyArray<Record<string, unknown>>, seenIds: ReadonlySet<string>): boolean {
  if (!previous || records.length === 0) return false;
  if (records.every((r) => typeof r.sourcedId === 'string' && seenIds.has(r.sourcedId))) return true;
  return previous.length === records.length && isRepeatedPage(previous.picks, sampleOf(records).picks);
}

/**
 * Every tag a change of `collection` could bump, with the ids left out: list:C, c:C for
 * id:C:*, and for each rel:P:* the id-free tag (list:<child>, else c:<child>) of every route
 * below a P, so an enrollment takes /classes/{id}/students, /users/{id}/classes and
 * /schools/{id}/enrollments with it. Derived from cache-tags.ts, so the two never disagree.
 */
function collectionWideTags(collection: BaseCollection): string[] {
  const probe = '\u0000any';
  const tags = new Set<string>();
  for (const t of tagsForChange(collection, { sourcedId: probe, class: probe, school: probe, user: probe })) {
    if (!t.endsWith(probe)) tags.add(t);
    else if (t === idTag(collection, probe)) tags.add(collectionTag(collection));
    else {
      for (const ep of ENDPOINTS) {
        const child = ep.kind === 'write' ? undefined : routeCollection(ep);
        if (!child) continue;
        const route = tagsForRoute(ep, ep.segments.filter((x) => x === '{id}').map(() => probe));
        if (route.includes(t)) tags.add(route.includes(listTag(child)) ? listTag(child) : collectionTag(child));
      }
    }
  }
  return [...tags];
}
const WIDE_TAGS = new Map<BaseCollection, string[]>();
const wideTagsOf = (c: BaseCollection) => WIDE_TAGS.get(c) ?? WIDE_TAGS.set(c, collectionWideTags(c)).get(c)!;

/**
 * What a poll keeps of the records it reads: the tags its changes bump, the ids the
 * repeated-page guard asks about and the watermark's pairs (in `cursor`), never a record;
 * `held` counts their characters.
 */
function changeReducer(collection: BaseCollection, cursor: WatermarkCursor) {
  const kept = {
    records: 0,
    changes: 0,
    held: 0,
    tags: new Set<string>(),
    ids: new Set<string>(),
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

function servicePath(district: District, collection: BaseCollection): string {
  const service = ['categories', 'lineItems', 'results', 'scoreScales'].includes(collection)
    ? 'gradebook'
    : collection === 'resources'
      ? 'resources'
      : 'rostering';
  return `${versionRoot(district.version, service)}/${collection}`;
}

/**
 * Polls each district for records changed since its watermark
 * (`filter=dateLastModified>'…'`, reference §7) and bumps the generation tags of every
 * change, so cached pages that could show the old record stop being served. One replica
 * polls a district at a time (lease); the watermark lives in the shared store.
 */
export function createDeltaSync(options: DeltaSyncOptions) {
  if (!(options.intervalMs > 0)) throw new Error('deltaSync: intervalMs must be positive');
  const { districts, backend, logger } = options;
  const now = options.now ?? Date.now;
  const collections = options.collections ?? DELTA_COLLECTIONS;
  const loggedUnsupported = new Set<string>();
  const loggedRepeats = new Set<string>();
  const loggedOverflows = new Set<string>();
  const limits: DeltaLimits = { ...DELTA_LIMITS, ...options.limits };
  const running = new Map<string, Promise<SyncReport>>();
  /** What this replica saw at its own last run of each district, for metrics. */
  const seen = new Map<string, { district: string; watermarkMs?: number; lastRunMs: number }>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function syncCollection(district: District, collection: BaseCollection): Promise<CollectionReport> {
    const stateKey = `wm|${district.id}|${collection}`;
    const unsupportedKey = `nodelta|${district.id}|${collection}`;
    if (await backend.state.get(unsupportedKey)) return { collection, outcome: 'unsupported', changes: 0, pages: 0 };
    const stored = parseWatermark(await backend.state.get(stateKey));
    // First run: changes from now on (minus the overlap) matter; older ones predate every cached page.
    const wm: Watermark = stored ?? { max: new Date(now() - options.overlapMs).toISOString(), seen: [] };
    const since = new Date(Date.parse(wm.max) - (stored ? options.overlapMs : 0)).toISOString();
    const path = servicePath(district, collection);
    const cursor = watermarkCursor(wm, options.overlapMs, now());
    const kept = changeReducer(collection, cursor);
    const full = () => kept.records >= limits.maxChanges || kept.held >= limits.maxHeldChars;
    let pages = 0;
    let overflow = false;
    let previous: PageSample | undefined;
    for (let offset = 0; ; ) {
      if (pages >= limits.maxPages || full()) {
        overflow = true;
        break;
      }
      let page: ChangePage;
      try {
        page = await readChangePage(district, path, since, offset, options.pageSize);
      } catch (err) {
        logger.warn({ msg: 'delta sync failed', district: district.id, collection, errorCode: (err as { code?: string }).code ?? 'error' });
        return { collection, outcome: 'failed', changes: 0, pages };
      }
      pages++;
      if (page.kind === 'rejected') {
        await backend.state.set(unsupportedKey, String(page.status), UNSUPPORTED_TTL_MS);
        logOnce(loggedUnsupported, district, collection, 'district rejects dateLastModified filter; its cache expires by TTL only', { status: page.status });
        return { collection, outcome: 'unsupported', changes: 0, pages };
      }
      // A district that ignores `offset` answers the same page forever; without a total,
      // nothing else would stop this loop before maxPages identical requests.
      if (repeats(previous, page.records, kept.ids)) {
        logOnce(loggedRepeats, district, collection, 'district repeats the same page whatever the offset; delta sync reads its first page only');
        break;
      }
      previous = sampleOf(page.records);
      for (const r of page.records) {
        if (full()) {
          overflow = true;
          break;
        }
        kept.add(r);
      }
      if (overflow) break;
      offset += page.records.length;
      if (page.records.length === 0 || (page.total !== undefined && offset >= page.total)) break;
    }
    let next: Watermark;
    if (overflow) {
      logOnce(loggedOverflows, district, collection, 'delta sync passed its bound; the whole collection was invalidated', { records: kept.records, pages });
      // The bump covers every change made before it, read or not. The cursor moves at least to
      // where a first run would start, or a mass change stamped within the overlap of the newest
      // change would be read again, and pass the bound again, at every poll until a newer change.
      const nowMs = now();
      await backend.cache.bump(district.id, wideTagsOf(collection));
      next = cursor.next(nowMs - options.overlapMs);
    } else {
      if (kept.tags.size > 0) await backend.cache.bump(district.id, [...kept.tags]);
      next = cursor.next();
    }
    await backend.state.set(stateKey, serializeWatermark(next));
    return { collection, outcome: 'synced', changes: kept.changes, pages, watermark: next.max, ...(overflow ? { collectionWide: true as const } : {}) };
  }

  function logOnce(logged: Set<string>, district: District, collection: BaseCollection, msg: string, extra: object = {}) {
    const key = `${district.id}|${collection}`;
    if (logged.has(key)) return;
    logged.add(key);
    logger.warn({ msg, district: district.id, collection, ...extra });
  }

  async function runDistrict(districtId: string): Promise<SyncReport> {
    const district = districts.get(districtId);
    if (!district) return { district: districtId, ran: false, reason: 'unknown district', collections: [] };
    try {
      await district.versionProbe?.settle();
    } catch {
      return { district: districtId, ran: false, reason: 'the district version is not known yet', collections: [] };
    }
    const lease = `sync|${districtId}`;
    if (!(await backend.leases.acquire(lease, Math.max(options.intervalMs, 60_000)))) {
      return { district: districtId, ran: false, reason: 'another replica is syncing this district', collections: [] };
    }
    try {
      const reports: CollectionReport[] = [];
      for (const c of collections) {
        if (stopped) break;
        reports.push(await syncCollection(district, c));
      }
      const changes = reports.reduce((n, r) => n + r.changes, 0);
      if (changes > 0) logger.info({ msg: 'delta sync', district: districtId, changes });
      const marks = reports.flatMap((r) => (r.watermark ? [r.watermark] : [])).sort();
      const status: SyncStatus = {
        lastRunAt: new Date(now()).toISOString(),
        ...(marks.length > 0 ? { watermark: marks[0]! } : {}),
        changes,
        collections: Object.fromEntries(reports.map((r) => [r.collection, { outcome: r.outcome, ...(r.watermark ? { watermark: r.watermark } : {}) }])),
      };
      seen.set(districtId, { district: districtId, lastRunMs: now(), ...(status.watermark ? { watermarkMs: Date.parse(status.watermark) } : {}) });
      await backend.state.set(`synced|${districtId}`, JSON.stringify(status), STATUS_TTL_MS);
      return { district: districtId, ran: true, collections: reports };
    } finally {
      await backend.leases.release(lease);
    }
  }

  /** One run per district at a time in this process; a second caller shares it. */
  function syncDistrict(districtId: string): Promise<SyncReport> {
    let run = running.get(districtId);
    if (!run) {
      run = runDistrict(districtId).finally(() => running.delete(districtId));
      running.set(districtId, run);
    }
    return run;
  }

  async function tick() {
    await Promise.allSettled(districts.list().map((d) => syncDistrict(d.id)));
  }

  return {
    syncDistrict,
    /** The districts this replica synced, with their watermark and last run (ms epoch). */
    seen: () => seen.values(),
    /** The district's last completed sync, by whichever replica ran it. */
    async status(districtId: string): Promise<SyncStatus | undefined> {
      const raw = await backend.state.get(`synced|${districtId}`).catch(() => undefined);
      if (!raw) return undefined;
      try {
        return JSON.parse(raw) as SyncStatus;
      } catch {
        return undefined;
      }
    },
    start() {
      if (timer || stopped) return;
      timer = setInterval(() => void tick(), options.intervalMs);
      timer.unref();
      void tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}

export type DeltaSync = ReturnType<typeof createDeltaSync>;
