// GET /districts/{id}/changes: a mirrored district's observed changes as a feed (issue 16).
// In order (copy, collection in dependency order, sourcedId), only the collections the
// client's scopes allow, in the OneRoster version asked for, each with its own cursor; the
// answer's `cursor` (and X-Change-Cursor) is where to ask next. A pull pinned to one copy
// followed by the feed from that copy's X-Change-Cursor loses and repeats nothing. Any replica
// sharing a PostgreSQL store answers any cursor of it.
import { GatewayError } from '../core/errors.js';
import type { Version } from '../core/oneroster/endpoints.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import type { Entity } from '../core/oneroster/model.js';
import { changeCursor, epochOf, readCursor } from '../mirror/cursor.js';
import { tombstone } from '../mirror/observed.js';
import { MIRROR_ROOT } from '../mirror/pull-page.js';
import type { CopyMeta, MirrorCollection, MirrorStore, ObservedChange } from '../mirror/types.js';
import { createRecordMapper } from './mirror-records.js';

export const FEED_DEFAULT_LIMIT = 1000;
export const FEED_MAX_LIMIT = 10_000;

export interface ChangeFeedSource {
  /** The copy reads of the district are answered from; undefined before its first (or when not mirrored). */
  serving(districtId: string): CopyMeta | undefined;
  /** Whether the district is mirrored at all. */
  mirrored(districtId: string): boolean;
  readonly store: MirrorStore;
}

export interface FeedRequest {
  districtId: string;
  /** The collections the client's scopes allow (feed order does not depend on this list's). */
  collections: readonly MirrorCollection[];
  since: string | undefined;
  limit: number;
  /** The version records are given in; undefined: the district's. */
  version: Version | undefined;
  /** The feed's URL without query (its next link). */
  linkBase: string;
  /** The district's OneRoster root at the gateway: records' hrefs point there. */
  hrefBase: string;
}

export interface FeedAnswer {
  body: string;
  headers: Record<string, string>;
}

/** A change's record as the feed gives it: a deletion's is its tombstone, as the OneRoster reads give it. */
const recordOf = (c: ObservedChange): Json => (c.op === 'deleted' ? tombstone(c) : c.record);

const gone = (districtId: string) =>
  new GatewayError(
    'gone',
    `The changes of district "${districtId}" after this cursor are no longer all kept (mirror.changeRetentionDays), or it is not a cursor of this gateway's mirror. Pull the district in full and continue from that answer's X-Change-Cursor.`,
  );

export function createChangeFeed(source: ChangeFeedSource) {
  const toVersion = createRecordMapper(source.store);

  async function inVersion(copy: CopyMeta, changes: readonly ObservedChange[], to: Version): Promise<Json[]> {
    const out: Json[] = changes.map(recordOf);
    if (to === copy.recordsVersion) return out;
    // Mapped per collection (the mappers work on one entity at a time), back in feed order.
    const at = new Map<MirrorCollection, number[]>();
    changes.forEach((c, i) => {
      const places = at.get(c.collection);
      if (places) places.push(i);
      else at.set(c.collection, [i]);
    });
    for (const [collection, places] of at) {
      // A mirrored collection's name is its entity's.
      const mapped = await toVersion(copy, collection as Entity, places.map((i) => out[i]!), to);
      places.forEach((i, j) => (out[i] = mapped[j]!));
    }
    return out;
  }

  return {
    /** The feed's page; a store that cannot answer (PostgreSQL down) is a 503 to retry, never a 500 or a false 410. */
    read: (r: FeedRequest): Promise<FeedAnswer> =>
      readFeed(r).catch((err: unknown) => {
        if (err instanceof GatewayError) throw err;
        throw new GatewayError('upstream_busy', `The change feed of district "${r.districtId}" cannot be read right now; retry the same request later.`, { headers: { 'retry-after': '5' } });
      }),
  };

  async function readFeed(r: FeedRequest): Promise<FeedAnswer> {
    if (!source.mirrored(r.districtId)) {
      throw new GatewayError('not_found', `District "${r.districtId}" is not mirrored: its change feed needs districts[].mirror.`);
    }
    // The store's latest copy, not this replica's idea of it (another replica may have published since):
    // every replica answers a cursor alike.
    const copy = (await source.store.current(r.districtId).catch(() => undefined)) ?? source.serving(r.districtId);
    if (!copy) throw new GatewayError('upstream_busy', `District "${r.districtId}" has no copy yet: its first full pull is running.`, { headers: { 'retry-after': '5' } });
    const version = r.version ?? copy.recordsVersion;
    const epoch = epochOf(copy.version);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'x-mirror-version': copy.version };
    // No cursor: nothing before now, and where to ask from (as a full pull's X-Change-Cursor would say).
    if (r.since === undefined) {
      headers['x-change-cursor'] = copy.version;
      return { headers, body: JSON.stringify({ changes: [], cursor: copy.version }) };
    }
    const since = readCursor(r.since);
    if (!since) throw new GatewayError('invalid_query', 'since must be a cursor the gateway gave (X-Change-Cursor, or a feed answer\'s cursor).');
    if (since.epoch !== epoch) throw gone(r.districtId);
    const read = await source.store.changes(r.districtId, { after: since.at, upTo: copy.seq, collections: r.collections, limit: r.limit + 1 });
    if (!read) throw gone(r.districtId);
    const more = read.length > r.limit;
    const page = read.slice(0, r.limit);
    const records = await inVersion(copy, page, version);
    const cursor = more ? changeCursor(epoch, page[page.length - 1]!) : copy.version;
    const changes = page.map((c, i) => ({
      cursor: changeCursor(epoch, c),
      collection: c.collection,
      sourcedId: c.sourcedId,
      op: c.op,
      at: new Date(c.at).toISOString(),
      record: records[i],
    }));
    headers['x-change-cursor'] = cursor;
    if (more) {
      const q = new URLSearchParams({ since: cursor, limit: String(r.limit), version });
      headers.link = `<${r.linkBase}?${q.toString()}>; rel="next"`;
    }
    // Kept hrefs point at MIRROR_ROOT: the district's root at this gateway takes its place.
    return { headers, body: JSON.stringify({ changes, cursor }).replaceAll(MIRROR_ROOT, r.hrefBase) };
  }
}

export type ChangeFeed = ReturnType<typeof createChangeFeed>;
