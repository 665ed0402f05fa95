// A full pull of one district into a staged copy: every mirrored collection in dependency
// order, each read to its end by the page walker (sourcedId order, so offsets stay stable),
// then the records changed while it ran read again, then judged (publish-guard.ts) and
// published atomically, or thrown away with the copy before still serving.
import { versionRoot } from '../core/oneroster/paths.js';
import { walkPages } from '../core/page-walk.js';
import type { District } from '../districts/districts.js';
import { judgePull, type PulledCollection } from './publish-guard.js';
import { PullError, readPullPage, type PulledPage } from './pull-page.js';
import { MIRROR_COLLECTIONS, type CopyMeta, type MirrorCollection, type MirrorStore, type StagedCopy } from './types.js';

export interface PullOptions {
  district: District;
  store: MirrorStore;
  collections: readonly MirrorCollection[];
  pageSize: number;
  shrinkGuardPercent: number;
  /** Skip the shrink guard (an operator's forced refresh). */
  force?: boolean;
  now: () => number;
  signal?: AbortSignal;
  /** Changes made this long before the pull started are read again at its end (timestamp precision and boundaries). */
  overlapMs?: number;
}

export interface PullReport {
  startedAt: number;
  finishedAt: number;
  upstreamRequests: number;
  outcome: 'published' | 'refused' | 'failed';
  /** Why it was refused or failed: safe to show (no district address or credential). */
  reason?: string;
  counts: Partial<Record<MirrorCollection, number>>;
  copy?: CopyMeta;
}

// A district that never says a collection ended costs at most this many requests.
const MAX_PAGES_PER_COLLECTION = 100_000;
// The statuses of a district that does not take the dateLastModified filter (as delta sync reads them).
const FILTER_REFUSED: ReadonlySet<number> = new Set([400, 404, 422, 501]);
// A page over the district's maxBodyBytes is asked again at half the size, down to this.
const MIN_PAGE_SIZE = 100;

/** Reads one collection into the staging; complete when the district said it ended. */
async function pullCollection(o: PullOptions, staged: StagedCopy, collection: MirrorCollection, count: () => void): Promise<Omit<PulledCollection, 'count'>> {
  const path = `${versionRoot(o.district.version, 'rostering')}/${collection}`;
  let total: number | undefined;
  let size = o.pageSize;
  const read = async (offset: number, limit: number): Promise<PulledPage> => {
    count();
    try {
      return await readPullPage(o.district, path, [['limit', String(limit)], ['offset', String(offset)], ['sort', 'sourcedId'], ['orderBy', 'asc']], o.signal);
    } catch (err) {
      // Records larger than the page size assumed: smaller pages, for the rest of the collection too.
      if (!(err instanceof PullError) || !err.tooLarge || limit <= MIN_PAGE_SIZE) throw err;
      size = Math.max(MIN_PAGE_SIZE, Math.floor(limit / 2));
      return read(offset, size);
    }
  };
  const walk = walkPages({
    limit: () => size,
    maxPages: MAX_PAGES_PER_COLLECTION,
    // A whole district: remember only the page before's ids, not every id of the walk.
    idMemory: 'page',
    fetchPage: read,
  });
  for await (const { page } of walk) {
    if (page.total !== undefined) total = page.total;
    await staged.add(collection, page.records);
  }
  return { collection, total, complete: walk.ended };
}

/** What changed since `since` in each collection, read again into the staging (a record added twice keeps the last). */
async function catchUp(o: PullOptions, staged: StagedCopy, since: number, count: () => void): Promise<void> {
  const filter = `dateLastModified>'${new Date(since).toISOString()}'`;
  for (const collection of o.collections) {
    const path = `${versionRoot(o.district.version, 'rostering')}/${collection}`;
    const walk = walkPages({
      limit: o.pageSize,
      maxPages: 100,
      fetchPage: (offset, limit) => {
        count();
        return readPullPage(o.district, path, [['filter', filter], ['limit', String(limit)], ['offset', String(offset)]], o.signal);
      },
    });
    try {
      for await (const { page } of walk) await staged.add(collection, page.records);
    } catch (err) {
      // A district without the filter: the copy is as current as the pull, and deltas cannot help either.
      if (!(err instanceof PullError) || !FILTER_REFUSED.has(err.status ?? 0)) throw err;
    }
  }
}

/** Pulls the whole district into a staged copy and publishes it if the guard allows. Never throws for a district problem. */
export async function fullPull(o: PullOptions): Promise<PullReport> {
  const startedAt = o.now();
  let upstreamRequests = 0;
  const count = () => void upstreamRequests++;
  const ordered = MIRROR_COLLECTIONS.filter((c) => o.collections.includes(c));
  const previous = await o.store.current(o.district.id);
  const staged = await o.store.stage(o.district.id);
  const report = (outcome: PullReport['outcome'], counts: PullReport['counts'], extra: Partial<PullReport> = {}): PullReport => ({
    startedAt,
    finishedAt: o.now(),
    upstreamRequests,
    outcome,
    counts,
    ...extra,
  });
  try {
    const pulled: Array<Omit<PulledCollection, 'count'>> = [];
    for (const c of ordered) pulled.push(await pullCollection(o, staged, c, count));
    const read = await staged.counts();
    const judged = pulled.map((p) => ({ ...p, count: read[p.collection] ?? 0 }));
    const verdict = judgePull(judged, previous?.counts, { shrinkGuardPercent: o.shrinkGuardPercent, ...(o.force ? { force: true } : {}) });
    if (!verdict.publish) {
      await staged.abort();
      return report('refused', read, { reason: verdict.reason });
    }
    await catchUp(o, staged, startedAt - (o.overlapMs ?? 120_000), count);
    const copy = await staged.publish({ recordsVersion: o.district.version, at: o.now() });
    return report('published', copy.counts, { copy });
  } catch (err) {
    await staged.abort().catch(() => undefined);
    const reason = err instanceof PullError ? err.message : err instanceof Error && err.name === 'MirrorFullError' ? err.message : 'the pull failed';
    return report('failed', await staged.counts().catch(() => ({})), { reason });
  }
}
