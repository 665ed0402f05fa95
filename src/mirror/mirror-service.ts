// Keeps each mirrored district's copy: a full pull when it has none or its last one is older
// than fullRefreshSeconds (one puller per district across every replica sharing the store),
// the delta sync's changes applied in between, and the copy that answers reads known
// synchronously here, so a request costs no store round trip to learn whether it can be
// served from the mirror.
//
// Refreshes and retries come due at their interval ± JITTER (core/spread.ts), drawn per district
// and pull: districts published together drift apart instead of refreshing in step. A district
// with no copy yet is pulled at once: maxParallelPulls and the replica's background cap
// (upstream/background-cap.ts) already queue a start-up of many such districts, and a delay
// would only keep them answering from the page cache for longer.
import { createIncidents, incidentLine, type IncidentMessages } from '../core/incidents.js';
import { dueAfter } from '../core/spread.js';
import type { DistrictRegistry } from '../districts/districts.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import { fullPull, type PullReport } from './full-pull.js';
import { changesStatus, mirrorStatus, MIRROR_OFF, parseHistory, recordPull, type MirrorStatus } from './mirror-status.js';
import { keepable } from './pull-page.js';
import { DEFAULT_RETENTION, type Retention } from './retention.js';
import { isMirrorCollection, type ChangeCounts, type ChangeLog, type CopyMeta, type MirrorChange, type MirrorCollection, type MirrorStore } from './types.js';

export interface MirrorSettings {
  fullRefreshSeconds: number;
  collections: readonly MirrorCollection[];
}

export interface MirrorServiceOptions {
  store: MirrorStore;
  districts: DistrictRegistry;
  /** The district's mirror settings; undefined when it is not mirrored (read at every use: a reload may change it). */
  settings(districtId: string): MirrorSettings | undefined;
  pageSize: number;
  shrinkGuardPercent(): number;
  /** How long copies no longer current stay readable, and changes are kept (the store's). */
  retention?: Retention;
  logger: { info(o: object): void; warn(o: object): void };
  now?: () => number;
  /** How often due pulls are looked for and the current copies re-read from the store (another replica may publish). Default 5000. */
  tickMs?: number;
  /** After a refused or failed pull, the next try waits this long (or fullRefreshSeconds, if shorter). Default 15 minutes. */
  retryMs?: number;
  /** Full pulls running at once in this process. Default 2. */
  maxParallelPulls?: number;
  onPull?(districtId: string, report: PullReport): void;
  /** What a copy this process published or applied recorded, per collection and operation. */
  onChanges?(districtId: string, changed: Partial<Record<MirrorCollection, ChangeCounts>>): void;
}

// How stale this replica's idea of a district's current copy may get while requests arrive.
const LOOK_MS = 1000;
// Fraction of the refresh (or retry) interval a pull's due time moves either way.
const JITTER = 0.1;

function pullMessages(outcome: string): IncidentMessages {
  return { entered: outcome === 'refused' ? 'mirror pull refused' : 'mirror pull failed', still: 'mirror pull still failing', recovered: 'mirror pull recovered' };
}

export function createMirrorService(options: MirrorServiceOptions) {
  const { store, districts, logger } = options;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? 5_000;
  const retryMs = options.retryMs ?? 15 * 60_000;
  const maxParallel = options.maxParallelPulls ?? 2;
  if (!(tickMs > 0) || !(retryMs > 0) || !(maxParallel >= 1)) throw new RangeError('createMirrorService: tickMs, retryMs and maxParallelPulls must be positive');
  const copies = new Map<string, CopyMeta>();
  /** Each district's change log as last read (for metrics at scrape time), with the copy it was read at. */
  const logs = new Map<string, { version: string; log: ChangeLog | undefined }>();
  /** When each district's current copy was last asked of the store (another replica may have published). */
  const looked = new Map<string, number>();
  const pulls = new Map<string, Promise<PullReport | undefined>>();
  // A district whose pulls keep failing (or being refused) warns once, then at most every 15 minutes.
  const incidents = createIncidents();
  /** Delta changes read in the current sync run, per district, applied when the run finishes. */
  const pending = new Map<string, Map<MirrorCollection, Json[]>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Aborts the pulls in flight at shutdown: a pull is thrown away, never half published.
  const stopping = new AbortController();

  /** Reads the district's change log again when its copy moved; counts what `written` (a copy this process made) recorded. */
  async function noteChanges(districtId: string, copy: CopyMeta | undefined, written = false): Promise<void> {
    if (!copy || logs.get(districtId)?.version === copy.version) return;
    const log = await store.changeLog(districtId).catch(() => undefined);
    logs.set(districtId, { version: copy.version, log });
    if (written && log?.last?.seq === copy.seq) options.onChanges?.(districtId, log.last.changed);
  }

  async function history(districtId: string) {
    return parseHistory(await store.readStatus(districtId).catch(() => undefined));
  }

  async function pull(districtId: string, force: boolean): Promise<PullReport | undefined> {
    const district = districts.get(districtId);
    const settings = options.settings(districtId);
    if (!district || !settings) return undefined;
    try {
      await district.versionProbe?.settle();
    } catch {
      return undefined; // the version is not known yet: the next tick tries again
    }
    const locked = await store.withPullLock(districtId, async () => {
      const report = await fullPull({
        district,
        store,
        collections: settings.collections,
        pageSize: options.pageSize,
        shrinkGuardPercent: options.shrinkGuardPercent(),
        now,
        signal: stopping.signal,
        ...(force ? { force } : {}),
      });
      await store.writeStatus(districtId, JSON.stringify(recordPull(await history(districtId), report)));
      return report;
    });
    if (!locked.ran) return undefined;
    const report = locked.value;
    if (report.copy) {
      copies.set(districtId, report.copy);
      await noteChanges(districtId, report.copy, true);
    }
    const log = { district: districtId, outcome: report.outcome, durationMs: report.finishedAt - report.startedAt, upstreamRequests: report.upstreamRequests, counts: report.counts };
    if (report.outcome === 'published') {
      const recovered = incidents.ok(districtId);
      logger.info({ msg: 'mirror published', version: report.copy?.version, ...log, ...(recovered && { failedSince: new Date(recovered.since).toISOString(), failedAttempts: recovered.attempts }) });
    } else failedPull(districtId, `${report.outcome}: ${report.reason ?? 'unknown'}`, report.outcome, { reason: report.reason, ...log });
    options.onPull?.(districtId, report);
    return report;
  }

  function failedPull(districtId: string, cause: string, outcome: string, fields: object): void {
    const note = incidents.failed(districtId, cause, now());
    if (note) logger.warn(incidentLine(note, pullMessages(outcome), { district: districtId, ...fields }).line);
  }

  /** One pull per district at a time in this process; a second caller shares it. */
  function startPull(districtId: string, force = false): Promise<PullReport | undefined> {
    let run = pulls.get(districtId);
    if (!run) {
      run = pull(districtId, force).catch((err: unknown) => {
        const errorName = err instanceof Error ? err.name : 'unknown';
        failedPull(districtId, `error: ${errorName}`, 'failed', { errorName });
        return undefined;
      });
      pulls.set(districtId, run);
      void run.finally(() => pulls.delete(districtId));
    }
    return run;
  }

  async function due(districtId: string, settings: MirrorSettings): Promise<boolean> {
    const h = await history(districtId);
    const last = h.lastFullPull;
    if (!last) return true;
    const refreshMs = settings.fullRefreshSeconds * 1000;
    // After a refusal or a failure, or with no copy, the retry; else the refresh.
    if (!copies.has(districtId) || last.outcome !== 'published') return dueAfter(last.finishedAt, Math.min(retryMs, refreshMs), JITTER, districtId) <= now();
    return dueAfter(h.lastPublishedAt ?? last.finishedAt, refreshMs, JITTER, districtId) <= now();
  }

  async function tick(): Promise<void> {
    for (const district of districts.list()) {
      if (stopped) return;
      const settings = options.settings(district.id);
      if (!settings) continue;
      const copy = await store.current(district.id).catch(() => undefined);
      if (copy) copies.set(district.id, copy);
      await noteChanges(district.id, copy);
      if (pulls.size < maxParallel && !pulls.has(district.id) && (await due(district.id, settings))) void startPull(district.id);
    }
    for (const id of copies.keys()) {
      if (!districts.get(id) || !options.settings(id)) {
        copies.delete(id);
        logs.delete(id);
        await store.drop(id).catch(() => undefined);
      }
    }
  }

  return {
    /** The copy reads of this district are answered from, if it is mirrored and has one. */
    serving(districtId: string): CopyMeta | undefined {
      if (!options.settings(districtId)) return undefined;
      // At most once a second, learn in the background whether another replica published a newer copy.
      const t = now();
      if ((looked.get(districtId) ?? -Infinity) + LOOK_MS <= t) {
        looked.set(districtId, t);
        void store.current(districtId).then((copy) => copy && !stopped && copies.set(districtId, copy), () => undefined);
      }
      return copies.get(districtId);
    },
    store,
    /** Each mirrored district's change log as last read: what metrics show. */
    changeLogs(): Array<{ district: string; log: ChangeLog }> {
      return [...logs].flatMap(([district, v]) => (v.log && copies.has(district) ? [{ district, log: v.log }] : []));
    },
    /** Whether the district is mirrored (by the config in force). */
    mirrored(districtId: string): boolean {
      return options.settings(districtId) !== undefined;
    },
    /** A copy a client pinned, while the snapshot retention keeps it readable (measured from when the next copy was published). */
    async pinned(districtId: string, version: string): Promise<CopyMeta | undefined> {
      if (!options.settings(districtId)) return undefined;
      // A store that cannot answer is not a copy gone: the caller tells the client to retry, not to start over.
      const copy = await store.copy(districtId, version);
      if (!copy) return undefined;
      const keep = (options.retention ?? DEFAULT_RETENTION).snapshotMs;
      return copy.supersededAt === undefined || copy.supersededAt + keep > now() ? copy : undefined;
    },
    /** Starts a full pull now (an operator's refresh); `started: false` when one is already running. */
    refresh(districtId: string, force = false): { started: boolean; done: Promise<PullReport | undefined> } {
      const running = pulls.get(districtId);
      if (running) return { started: false, done: running };
      return { started: true, done: startPull(districtId, force) };
    },
    async status(districtId: string): Promise<MirrorStatus> {
      if (!options.settings(districtId)) return MIRROR_OFF;
      const stored = await store.current(districtId).catch(() => undefined);
      if (stored) copies.set(districtId, stored);
      const copy = stored ?? copies.get(districtId);
      const log = copy ? await store.changeLog(districtId).catch(() => undefined) : undefined;
      const retentionDays = (options.retention ?? DEFAULT_RETENTION).changeMs / 86_400_000;
      return mirrorStatus(copy, await history(districtId), pulls.has(districtId), now(), changesStatus(copy, log, retentionDays));
    },
    /** Delta sync's observer: the changed records of a page, then the end of a district's run. */
    delta: {
      async changed(districtId: string, collection: string, records: readonly Json[]): Promise<void> {
        if (!copies.has(districtId) || !isMirrorCollection(collection) || records.length === 0) return;
        const district = districts.get(districtId);
        if (!district) return;
        let byCollection = pending.get(districtId);
        if (!byCollection) pending.set(districtId, (byCollection = new Map()));
        const list = byCollection.get(collection) ?? [];
        list.push(...keepable(district, records));
        byCollection.set(collection, list);
      },
      async finished(districtId: string, outcomes: ReadonlyArray<{ collection: string; outcome: string; collectionWide?: boolean }>): Promise<void> {
        const byCollection = pending.get(districtId);
        pending.delete(districtId);
        const settings = options.settings(districtId);
        if (!settings || !copies.has(districtId)) return;
        const changes: MirrorChange[] = [...(byCollection ?? [])].map(([collection, upserts]) => ({ collection, upserts }));
        const mine = outcomes.filter((o) => isMirrorCollection(o.collection) && settings.collections.includes(o.collection));
        const complete = mine.length > 0 && mine.every((o) => o.outcome === 'synced' && !o.collectionWide);
        const at = now();
        const next = changes.length > 0 ? await store.apply(districtId, changes, at) : undefined;
        if (next) await noteChanges(districtId, next, true);
        if (complete) await store.agreed(districtId, at);
        const copy = next ?? (await store.current(districtId));
        if (copy) copies.set(districtId, copy);
        // More changes than a delta holds: only a full pull brings the copy back in line.
        if (mine.some((o) => o.collectionWide)) void startPull(districtId);
      },
    },
    start(): void {
      if (timer || stopped) return;
      timer = setInterval(() => void tick().catch(() => undefined), tickMs);
      timer.unref();
      void tick().catch(() => undefined);
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([...pulls.values()]);
    },
  };
}

export type MirrorService = ReturnType<typeof createMirrorService>;
