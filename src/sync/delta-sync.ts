import type { CacheBackend } from '../cache/types.js';
import { tagsForChange } from '../core/oneroster/cache-tags.js';
import { DELTA_COLLECTIONS, type BaseCollection } from '../core/oneroster/collections.js';
import { versionRoot } from '../core/oneroster/paths.js';
import type { District, DistrictRegistry } from '../routing/districts.js';
import { isRepeatedPage } from '../service/paging.js';
import { readChangePage, type ChangePage } from './change-page.js';
import { advanceWatermark, parseWatermark, serializeWatermark, type Watermark } from './watermark.js';

export interface DeltaSyncOptions {
  districts: DistrictRegistry;
  backend: CacheBackend;
  logger: { info(o: object): void; warn(o: object): void };
  intervalMs: number;
  overlapMs: number;
  pageSize: number;
  collections?: readonly BaseCollection[];
  now?: () => number;
}

export interface CollectionReport {
  collection: BaseCollection;
  outcome: 'synced' | 'unsupported' | 'failed' | 'skipped';
  changes: number;
  pages: number;
  watermark?: string;
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
const MAX_PAGES = 10_000;
// A district gone for a month no longer needs its last sync remembered.
const STATUS_TTL_MS = 30 * 24 * 3600_000;

/** The page was read before: every record's sourcedId already seen, or the same page again (no ids). */
function repeats(previous: ChangePage | undefined, page: ChangePage & { kind: 'records' }, seenIds: ReadonlySet<unknown>): boolean {
  if (!previous || previous.kind !== 'records' || page.records.length === 0) return false;
  if (page.records.every((r) => r.sourcedId !== undefined && seenIds.has(r.sourcedId))) return true;
  return isRepeatedPage(previous.records, page.records);
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
    const changed: Array<Record<string, unknown>> = [];
    let pages = 0;
    let previous: ChangePage | undefined;
    const seenIds = new Set<unknown>();
    for (let offset = 0; pages < MAX_PAGES; ) {
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
        if (!loggedUnsupported.has(unsupportedKey)) {
          loggedUnsupported.add(unsupportedKey);
          logger.warn({ msg: 'district rejects dateLastModified filter; its cache expires by TTL only', district: district.id, collection, status: page.status });
        }
        return { collection, outcome: 'unsupported', changes: 0, pages };
      }
      // A district that ignores `offset` answers the same page forever; without a total,
      // nothing else would stop this loop before MAX_PAGES identical requests.
      if (repeats(previous, page, seenIds)) {
        const key = `${district.id}|${collection}`;
        if (!loggedRepeats.has(key)) {
          loggedRepeats.add(key);
          logger.warn({ msg: 'district repeats the same page whatever the offset; delta sync reads its first page only', district: district.id, collection });
        }
        break;
      }
      for (const r of page.records) if (r.sourcedId !== undefined) seenIds.add(r.sourcedId);
      previous = page;
      changed.push(...page.records);
      offset += page.records.length;
      if (page.records.length === 0 || (page.total !== undefined && offset >= page.total)) break;
    }
    const { next, fresh } = advanceWatermark(wm, changed, options.overlapMs, now());
    const tags = new Set<string>();
    for (const record of fresh) for (const t of tagsForChange(collection, record)) tags.add(t);
    if (tags.size > 0) await backend.cache.bump(district.id, [...tags]);
    await backend.state.set(stateKey, serializeWatermark(next));
    return { collection, outcome: 'synced', changes: fresh.length, pages, watermark: next.max };
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
