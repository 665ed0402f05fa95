// The `mirror` object of each GET /districts entry (a contract, like the config): what the
// district's copy is, and how its last full pull went. The pull history is kept in the store
// (MirrorStore.writeStatus) so every replica shows the same.
import type { PullReport } from './full-pull.js';
import type { ChangeCounts, ChangeLog, CopyMeta, MirrorCollection } from './types.js';

export interface PullHistory {
  lastFullPull?: { startedAt: number; finishedAt: number; upstreamRequests: number; outcome: PullReport['outcome']; reason?: string };
  lastRefusal?: { at: number; reason: string };
  lastError?: { at: number; message: string };
  /** When the last published full pull finished: the next is due fullRefreshSeconds later. */
  lastPublishedAt?: number;
}

export interface MirrorStatus {
  state: 'off' | 'building' | 'ready' | 'failed';
  version: string | null;
  publishedAt: string | null;
  /** Last time the copy agreed with the district (a full pull or a complete delta sync). */
  agreedAt: string | null;
  ageSeconds: number | null;
  counts: Partial<Record<MirrorCollection, number>>;
  lastFullPull: { startedAt: string; finishedAt: string; durationMs: number; upstreamRequests: number; outcome: PullReport['outcome']; reason?: string } | null;
  lastRefusal: { at: string; reason: string } | null;
  lastError: { at: string; message: string } | null;
  /** A full pull is running in this replica. */
  pulling: boolean;
  /** What the district's observed changes hold (the change feed, tombstones of dateLastModified> reads); null before its first copy. */
  changes: ChangesStatus | null;
}

export interface ChangesStatus {
  /** mirror.changeRetentionDays. */
  retentionDays: number;
  /** Changes held, and of them deletions (the tombstones dateLastModified> reads serve). */
  held: number;
  tombstones: number;
  /** The oldest change held. */
  oldestAt: string | null;
  /** The earliest cursor the feed still answers: the copy its changes start after. */
  earliestCursor: string;
  /** The latest copy that recorded changes, and what it recorded per collection. */
  last: { version: string; changed: Partial<Record<MirrorCollection, ChangeCounts>> } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const MIRROR_OFF: MirrorStatus = Object.freeze({
  state: 'off',
  version: null,
  publishedAt: null,
  agreedAt: null,
  ageSeconds: null,
  counts: {},
  lastFullPull: null,
  lastRefusal: null,
  lastError: null,
  pulling: false,
  changes: null,
}) as MirrorStatus;

/** The history after a pull: its report, and the refusal or error it was. */
export function recordPull(history: PullHistory, report: PullReport): PullHistory {
  const next: PullHistory = {
    ...history,
    lastFullPull: {
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      upstreamRequests: report.upstreamRequests,
      outcome: report.outcome,
      ...(report.reason ? { reason: report.reason } : {}),
    },
  };
  if (report.outcome === 'published') next.lastPublishedAt = report.finishedAt;
  if (report.outcome === 'refused') next.lastRefusal = { at: report.finishedAt, reason: report.reason ?? 'refused' };
  if (report.outcome === 'failed') next.lastError = { at: report.finishedAt, message: report.reason ?? 'failed' };
  return next;
}

export function parseHistory(json: string | undefined): PullHistory {
  if (!json) return {};
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as PullHistory) : {};
  } catch {
    return {};
  }
}

/** The `changes` object: the store's change log as an operator reads it (cursors in the copy's epoch). */
export function changesStatus(copy: CopyMeta | undefined, log: ChangeLog | undefined, retentionDays: number): ChangesStatus | null {
  if (!copy || !log) return null;
  const epoch = copy.version.slice(0, copy.version.indexOf('.'));
  return {
    retentionDays,
    held: log.held,
    tombstones: log.tombstones,
    oldestAt: log.oldestAt !== undefined ? iso(log.oldestAt) : null,
    earliestCursor: `${epoch}.${log.horizon}`,
    last: log.last ? { version: `${epoch}.${log.last.seq}`, changed: log.last.changed } : null,
  };
}

export function mirrorStatus(copy: CopyMeta | undefined, history: PullHistory, pulling: boolean, now: number, changes: ChangesStatus | null = null): MirrorStatus {
  const last = history.lastFullPull;
  const failedLast = last !== undefined && last.outcome !== 'published';
  return {
    state: copy ? 'ready' : failedLast && !pulling ? 'failed' : 'building',
    version: copy?.version ?? null,
    publishedAt: copy ? iso(copy.publishedAt) : null,
    agreedAt: copy ? iso(copy.agreedAt) : null,
    ageSeconds: copy ? Math.max(0, Math.floor((now - copy.agreedAt) / 1000)) : null,
    counts: copy?.counts ?? {},
    lastFullPull: last
      ? {
          startedAt: iso(last.startedAt),
          finishedAt: iso(last.finishedAt),
          durationMs: last.finishedAt - last.startedAt,
          upstreamRequests: last.upstreamRequests,
          outcome: last.outcome,
          ...(last.reason ? { reason: last.reason } : {}),
        }
      : null,
    lastRefusal: history.lastRefusal ? { at: iso(history.lastRefusal.at), reason: history.lastRefusal.reason } : null,
    lastError: history.lastError ? { at: iso(history.lastError.at), message: history.lastError.message } : null,
    pulling,
    changes,
  };
}
