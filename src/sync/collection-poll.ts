import type { CacheBackend } from '../cache/types.js';
import { serviceOf, type BaseCollection } from '../core/oneroster/collections.js';
import { versionRoot } from '../core/oneroster/paths.js';
import { walkPages } from '../core/page-walk.js';
import type { District } from '../districts/districts.js';
import { readChangePage, type ChangePage } from './change-page.js';
import { changeReducer, type ChangeReducer, type DeltaLimits } from './change-reducer.js';
import { wideTagsOf } from './collection-wide-tags.js';
import { parseWatermark, serializeWatermark, watermarkCursor, type Watermark, type WatermarkCursor } from './watermark.js';

// One poll of one district collection: read the changes since its watermark page by page
// (the page walker's stop rules, plus this poll's own bounds), bump the tags they touch and
// store the next watermark.

export interface CollectionReport {
  collection: BaseCollection;
  outcome: 'synced' | 'unsupported' | 'failed' | 'skipped';
  changes: number;
  pages: number;
  watermark?: string;
  /** The poll passed DELTA_LIMITS: every page of the collection was invalidated, not record by record. */
  collectionWide?: true;
  /** Why a failed poll failed: an error code, never a message (the run logs it once per incident). */
  errorCode?: string;
}

/** A district problem worth one warning per district and collection, not one per poll. */
export type WarnOnce = (kind: 'unsupported' | 'repeats' | 'overflow', district: District, collection: BaseCollection, msg: string, extra?: object) => void;

/** Told of what a sync reads (the mirror applies the changed records to its copy). */
export interface DeltaObserver {
  /** Records a page of the poll kept (the district says they changed since the watermark). */
  changed(districtId: string, collection: BaseCollection, records: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /** The district's run finished: what each collection's poll did. */
  finished(districtId: string, reports: readonly CollectionReport[]): Promise<void>;
}

export interface PollContext {
  backend: CacheBackend;
  warnOnce: WarnOnce;
  overlapMs: number;
  pageSize: number;
  limits: DeltaLimits;
  now: () => number;
  /**
   * A first run (no watermark stored) reads changes since this instant: when this replica
   * first knew the district, since pages it cached from then on may show them, however late
   * the first poll comes.
   */
  firstSinceMs(districtId: string): number;
  observer?: DeltaObserver;
}

// A filter the district rejected is remembered for a day, then tried again.
const UNSUPPORTED_TTL_MS = 24 * 3600_000;

function servicePath(district: District, collection: BaseCollection): string {
  return `${versionRoot(district.version, serviceOf(collection))}/${collection}`;
}

type ChangeRead =
  | { kind: 'read'; pages: number; overflow: boolean; repeated: boolean }
  | { kind: 'rejected'; pages: number; status: number }
  | { kind: 'failed'; pages: number; error: unknown };

/**
 * Feeds `kept` the changed records page by page. Past the page cap, or once `kept` is full
 * with more to read, the poll overflows; a page that ended the collection does not.
 */
async function readChanges(ctx: PollContext, district: District, collection: BaseCollection, since: string, kept: ChangeReducer): Promise<ChangeRead> {
  const path = servicePath(district, collection);
  let rejected: number | undefined;
  let failed: { error: unknown } | undefined;
  const walk = walkPages({
    limit: ctx.pageSize,
    maxPages: ctx.limits.maxPages,
    seen: kept.ids,
    fetchPage: async (offset: number, limit: number): Promise<Extract<ChangePage, { kind: 'records' }>> => {
      const page = await readChangePage(district, path, since, offset, limit).catch((error: unknown) => {
        failed = { error };
        throw error;
      });
      if (page.kind === 'records') return page;
      // Counted as a page read, and empty: the walk ends there.
      rejected = page.status;
      return { kind: 'records', records: [] };
    },
  });
  let overflow = false;
  try {
    for await (const { page, last } of walk) {
      const taken: Array<Record<string, unknown>> = [];
      for (const r of page.records) {
        if (kept.full()) {
          overflow = true;
          break;
        }
        kept.add(r);
        taken.push(r);
      }
      if (ctx.observer && taken.length > 0) await ctx.observer.changed(district.id, collection, taken);
      if (!overflow && !last && kept.full()) overflow = true;
      if (overflow) break;
    }
  } catch (error) {
    if (!failed) throw error;
    return { kind: 'failed', pages: walk.pages, error: failed.error };
  }
  if (rejected !== undefined) return { kind: 'rejected', pages: walk.pages, status: rejected };
  return { kind: 'read', pages: walk.pages, overflow: overflow || walk.stop === 'page-cap', repeated: walk.stop === 'repeated' };
}

/** Bumps what the changes read touch and answers the next watermark. */
async function invalidate(ctx: PollContext, district: District, collection: BaseCollection, kept: ChangeReducer, cursor: WatermarkCursor, overflow: boolean): Promise<Watermark> {
  if (!overflow) {
    if (kept.tags.size > 0) await ctx.backend.cache.bump(district.id, [...kept.tags]);
    return cursor.next();
  }
  // The bump covers every change made before it, read or not. The cursor moves at least to
  // where a first run would start, or a mass change stamped within the overlap of the newest
  // change would be read again, and pass the bound again, at every poll until a newer change.
  const nowMs = ctx.now();
  await ctx.backend.cache.bump(district.id, wideTagsOf(collection));
  return cursor.next(nowMs - ctx.overlapMs);
}

/**
 * Polls one collection of a district for records changed since its watermark
 * (`filter=dateLastModified>'…'`, reference §7) and bumps the generation tags of every change.
 */
export async function pollCollection(ctx: PollContext, district: District, collection: BaseCollection): Promise<CollectionReport> {
  const { backend } = ctx;
  const stateKey = `wm|${district.id}|${collection}`;
  const unsupportedKey = `nodelta|${district.id}|${collection}`;
  if (await backend.state.get(unsupportedKey)) return { collection, outcome: 'unsupported', changes: 0, pages: 0 };
  const stored = parseWatermark(await backend.state.get(stateKey));
  // First run: changes since the replica knew the district (minus the overlap) matter; older ones predate every page it cached.
  const wm: Watermark = stored ?? { max: new Date(Math.min(ctx.now(), ctx.firstSinceMs(district.id)) - ctx.overlapMs).toISOString(), seen: [] };
  const since = new Date(Date.parse(wm.max) - (stored ? ctx.overlapMs : 0)).toISOString();
  const cursor = watermarkCursor(wm, ctx.overlapMs, ctx.now());
  const kept = changeReducer(collection, cursor, ctx.limits);
  const read = await readChanges(ctx, district, collection, since, kept);
  if (read.kind === 'failed') return { collection, outcome: 'failed', changes: 0, pages: read.pages, errorCode: (read.error as { code?: string }).code ?? 'error' };
  if (read.kind === 'rejected') {
    await backend.state.set(unsupportedKey, String(read.status), UNSUPPORTED_TTL_MS);
    ctx.warnOnce('unsupported', district, collection, 'district rejects dateLastModified filter; its cache expires by TTL only', { status: read.status });
    return { collection, outcome: 'unsupported', changes: 0, pages: read.pages };
  }
  // A district that ignores `offset` answers the same page forever; without a total, nothing
  // else would stop the walk before maxPages identical requests.
  if (read.repeated) ctx.warnOnce('repeats', district, collection, 'district repeats the same page whatever the offset; delta sync reads its first page only');
  if (read.overflow) ctx.warnOnce('overflow', district, collection, 'delta sync passed its bound; the whole collection was invalidated', { records: kept.records, pages: read.pages });
  const next = await invalidate(ctx, district, collection, kept, cursor, read.overflow);
  await backend.state.set(stateKey, serializeWatermark(next));
  return { collection, outcome: 'synced', changes: kept.changes, pages: read.pages, watermark: next.max, ...(read.overflow ? { collectionWide: true as const } : {}) };
}
