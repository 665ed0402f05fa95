import type { CacheBackend } from '../cache/types.js';
import { DELTA_COLLECTIONS, type BaseCollection } from '../core/oneroster/collections.js';
import { createIncidents, incidentLine, type IncidentNote } from '../core/incidents.js';
import type { DistrictRegistry } from '../districts/districts.js';
import { DELTA_LIMITS, type DeltaLimits } from './change-reducer.js';
import { pollCollection, type CollectionReport, type DeltaObserver, type PollContext, type WarnOnce } from './collection-poll.js';
import { createPollPlan } from './poll-plan.js';

export { DELTA_LIMITS, type DeltaLimits } from './change-reducer.js';
export type { CollectionReport, DeltaObserver } from './collection-poll.js';

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
  /** Told of the changed records and of each district's finished run (the mirror). */
  observer?: DeltaObserver;
  /** Fraction of the interval each later poll moves either way, so districts never poll in step. Default 0.1. */
  jitter?: number;
  /** The jitter's random source, in [0, 1) (tests). */
  random?: () => number;
  /** A district failing to sync is reminded of at most this often. Default 15 minutes. */
  summaryEveryMs?: number;
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
  /** The last run (this one or an earlier one) that polled every collection with none failed. */
  lastSuccessAt?: string;
}

/** What this replica knows of a district's sync, for metrics (ms epochs). */
export interface SyncSeen {
  district: string;
  watermarkMs?: number;
  /** Absent until this replica ran it (another replica may hold the lease). */
  lastRunMs?: number;
  lastSuccessMs?: number;
  /** When this replica first tried the district. */
  sinceMs: number;
}

export interface SyncReport {
  district: string;
  ran: boolean;
  reason?: string;
  collections: CollectionReport[];
}

const SYNC_MESSAGES = { entered: 'delta sync failed', still: 'delta sync still failing', recovered: 'delta sync recovered' };

function successMs(status: SyncStatus | undefined): number | undefined {
  const ms = status?.lastSuccessAt ? Date.parse(status.lastSuccessAt) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function newest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

// A district gone for a month no longer needs its last sync remembered.
const STATUS_TTL_MS = 30 * 24 * 3600_000;

/** Warns once per district, collection and kind of trouble, for the life of the process. */
function warnOnce(logger: DeltaSyncOptions['logger']): WarnOnce {
  const logged = new Set<string>();
  return (kind, district, collection, msg, extra = {}) => {
    const key = `${kind}|${district.id}|${collection}`;
    if (logged.has(key)) return;
    logged.add(key);
    logger.warn({ msg, district: district.id, collection, ...extra });
  };
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
  const plan = createPollPlan({ intervalMs: options.intervalMs, jitter: options.jitter ?? 0.1, ...(options.random ? { random: options.random } : {}) });
  // Due polls are looked for this often: fine enough that the spread survives it.
  const tickMs = Math.max(50, Math.min(1000, options.intervalMs / 20));
  const incidents = createIncidents(options.summaryEveryMs !== undefined ? { summaryEveryMs: options.summaryEveryMs } : {});
  const collections = options.collections ?? DELTA_COLLECTIONS;
  const limits: DeltaLimits = { ...DELTA_LIMITS, ...options.limits };
  const running = new Map<string, Promise<SyncReport>>();
  // When this replica first knew each district: its first poll reads the changes since then.
  const known = new Map<string, number>(districts.list().map((d) => [d.id, now()]));
  /** What this replica saw at its own last run of each district, for metrics. */
  const seen = new Map<string, SyncSeen>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll: PollContext = {
    backend,
    warnOnce: warnOnce(logger),
    firstSinceMs: (id) => known.get(id) ?? now(),
    overlapMs: options.overlapMs,
    pageSize: options.pageSize,
    limits,
    now,
    ...(options.observer ? { observer: options.observer } : {}),
  };

  async function runDistrict(districtId: string): Promise<SyncReport> {
    const district = districts.get(districtId);
    if (!district) return { district: districtId, ran: false, reason: 'unknown district', collections: [] };
    // Before the version probe: a district whose probe never answers still gets a lag series,
    // so the alert on a district that never synced can fire for it.
    if (!seen.has(districtId)) seen.set(districtId, { district: districtId, sinceMs: known.get(districtId) ?? now() });
    try {
      await district.versionProbe?.settle();
    } catch (err) {
      tell(districtId, incidents.failed(districtId, `version_unknown:${(err as { code?: string }).code ?? 'error'}`, now()));
      return { district: districtId, ran: false, reason: 'the district version is not known yet', collections: [] };
    }
    const lease = `sync|${districtId}`;
    if (!(await backend.leases.acquire(lease, Math.max(options.intervalMs, 60_000)))) {
      await learnShared(districtId);
      return { district: districtId, ran: false, reason: 'another replica is syncing this district', collections: [] };
    }
    try {
      const reports: CollectionReport[] = [];
      for (const c of collections) {
        if (stopped) break;
        reports.push(await pollCollection(poll, district, c));
      }
      await options.observer?.finished(districtId, reports).catch((err: unknown) => {
        logger.warn({ msg: 'mirror delta apply failed', district: districtId, errorName: err instanceof Error ? err.name : 'unknown' });
      });
      const failed = reports.filter((r) => r.outcome === 'failed');
      if (failed.length > 0) tell(districtId, incidents.failed(districtId, failed[0]!.errorCode ?? 'error', now()), failed);
      else if (!stopped) tell(districtId, incidents.ok(districtId));
      const changes = reports.reduce((n, r) => n + r.changes, 0);
      if (changes > 0) logger.info({ msg: 'delta sync', district: districtId, changes });
      const marks = reports.flatMap((r) => (r.watermark ? [r.watermark] : [])).sort();
      const before = seen.get(districtId)!;
      // A district that rejects the filter ('unsupported') is not failing: it relies on TTLs, as logged.
      const succeeded = !stopped && reports.length === collections.length && reports.every((r) => r.outcome !== 'failed');
      // A failed run keeps the newer of this replica's success and the one another replica shared,
      // so a replica whose own success is older never moves the shared one back.
      const lastSuccessMs = succeeded ? now() : newest(before.lastSuccessMs, successMs(await readStatus(districtId)));
      const status: SyncStatus = {
        lastRunAt: new Date(now()).toISOString(),
        ...(marks.length > 0 ? { watermark: marks[0]! } : {}),
        changes,
        collections: Object.fromEntries(reports.map((r) => [r.collection, { outcome: r.outcome, ...(r.watermark ? { watermark: r.watermark } : {}) }])),
        ...(lastSuccessMs !== undefined ? { lastSuccessAt: new Date(lastSuccessMs).toISOString() } : {}),
      };
      seen.set(districtId, {
        district: districtId,
        lastRunMs: now(),
        sinceMs: before.sinceMs,
        ...(status.watermark ? { watermarkMs: Date.parse(status.watermark) } : {}),
        ...(lastSuccessMs !== undefined ? { lastSuccessMs } : {}),
      });
      await backend.state.set(`synced|${districtId}`, JSON.stringify(status), STATUS_TTL_MS);
      return { district: districtId, ran: true, collections: reports };
    } finally {
      await backend.leases.release(lease);
    }
  }

  /** A district that keeps failing: one warning when it starts, a reminder now and then, one line when it recovers. */
  function tell(districtId: string, note: IncidentNote | undefined, failed: readonly CollectionReport[] = []): void {
    if (!note) return;
    const collections = note.kind === 'recovered' ? {} : { collections: failed.map((r) => r.collection) };
    const { level, line } = incidentLine(note, SYNC_MESSAGES, { district: districtId, ...collections });
    logger[level](line);
  }

  /** Another replica synced the district: its last success is this replica's metric too, so no replica's lag grows while one succeeds. */
  async function learnShared(districtId: string): Promise<void> {
    const ms = successMs(await readStatus(districtId));
    const mine = seen.get(districtId);
    if (mine && ms !== undefined && ms > (mine.lastSuccessMs ?? -Infinity)) seen.set(districtId, { ...mine, lastSuccessMs: ms });
  }

  async function readStatus(districtId: string): Promise<SyncStatus | undefined> {
    const raw = await backend.state.get(`synced|${districtId}`).catch(() => undefined);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as SyncStatus;
    } catch {
      return undefined;
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

  /** Starts the polls due now; each district's run is its own (a slow one delays no other). */
  function tick(): void {
    if (stopped) return;
    // A store that failed the run (lease, watermark) fails it quietly, as before: the next run tries again.
    const ids = districts.list().map((d) => d.id);
    const t = now();
    for (const id of ids) if (!known.has(id)) known.set(id, t);
    if (known.size > ids.length) {
      const listed = new Set(ids);
      // seen goes too: a district added back by a later reload is new again, its lag counted from then.
      for (const id of known.keys()) {
        if (listed.has(id)) continue;
        known.delete(id);
        seen.delete(id);
      }
    }
    for (const id of plan.due(ids, t)) syncDistrict(id).catch(() => undefined);
  }

  return {
    syncDistrict,
    /** The districts this replica tried, with their watermark, last run and last success (ms epoch). */
    seen: () => seen.values(),
    /** The district's last completed sync, by whichever replica ran it. */
    status: readStatus,
    start() {
      if (timer || stopped) return;
      timer = setInterval(tick, tickMs);
      timer.unref();
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}

export type DeltaSync = ReturnType<typeof createDeltaSync>;
