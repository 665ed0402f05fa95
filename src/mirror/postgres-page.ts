// Pages in sourcedId order (the default, and every full pull) without counting or sorting every
// match on every page. A copy never changes once published, so what one page learned about it
// holds for the next:
// - the total: an unfiltered query's is the copy's own count (mirror_copies.counts); a filtered
//   one's is counted once per copy and query (count(*), no sort) and remembered;
// - bookmarks: the sourcedId that ends a page, so the page after it is an index range scan
//   (`sourced_id > $after ... LIMIT`) instead of an OFFSET over everything before it (a full
//   pull pages in order: each page costs its limit, not its position);
// - the flags of the copy's collection (postgres-sql.ts recordFlags), OR-ed.
// The page of the district's latest copy reads the current rows alone, in the order of their
// index (mirror_records_current); an earlier copy (pinned by a client) reads both branches.
import { createHash } from 'node:crypto';
import type { CopyMeta, MirrorQuery } from './types.js';
import { ROW_COLUMNS, type Params } from './postgres-sql.js';

const MAX_QUERIES = 2000;
const MAX_MARKS = 64;
const MAX_COPIES = 500;

interface Known {
  total: number | undefined;
  /** offset -> sourcedId of the record just before it (in the query's order). */
  marks: Map<number, string>;
}

/** Bounded: the least recently used entries go first. */
function touch<K, V>(map: Map<K, V>, key: K, value: V, max: number): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
  return value;
}

/** What this process has learned about copies (per store, so per database and epoch). */
export class PageMemo {
  private readonly queries = new Map<string, Known>();
  private readonly bits = new Map<string, number>();
  private readonly earlier = new Map<string, true>();

  known(key: string): Known | undefined {
    const k = this.queries.get(key);
    return k && touch(this.queries, key, k, MAX_QUERIES);
  }
  learn(key: string, total: number | undefined, mark?: [number, string]): void {
    const k = this.known(key) ?? touch(this.queries, key, { total: undefined, marks: new Map() }, MAX_QUERIES);
    if (total !== undefined) k.total = total;
    if (mark && mark[0] > 0) touch(k.marks, mark[0], mark[1], MAX_MARKS);
  }
  flags(copy: CopyMeta, collection: string): number | undefined {
    return this.bits.get(copyKey(copy, collection));
  }
  learnFlags(copy: CopyMeta, collection: string, bits: number): void {
    touch(this.bits, copyKey(copy, collection), bits, MAX_COPIES);
  }
  /** The copy is known not to be its district's latest (forever: a later copy never goes away first). */
  isEarlier(copy: CopyMeta): boolean {
    return this.earlier.has(copyKey(copy, ''));
  }
  learnEarlier(copy: CopyMeta): void {
    touch(this.earlier, copyKey(copy, ''), true, MAX_COPIES);
  }
}

const copyKey = (copy: CopyMeta, collection: string) => `${copy.district}\u0000${copy.seq}\u0000${collection}`;

/** One query's identity within a copy, offset and limit aside: its conditions as SQL with their values. */
export function queryKey(copy: CopyMeta, q: MirrorQuery, cond: string, values: readonly string[]): string {
  const text = JSON.stringify([q.desc === true, cond, values]);
  const digest = text.length > 200 ? createHash('sha256').update(text).digest('base64') : text;
  return `${copyKey(copy, q.collection)}\u0000${digest}`;
}

/** The nearest bookmark at or before `offset`: [its offset, the sourcedId before it]. */
export function bookmark(known: Known | undefined, offset: number): [number, string] | undefined {
  let best: [number, string] | undefined;
  for (const [at, id] of known?.marks ?? []) if (at <= offset && (!best || at > best[0])) best = [at, id];
  return best;
}

export interface PageShape {
  /** The copy is (assumed) its district's latest: current rows only. */
  latest: boolean;
  /** How the total is found: the copy's count, counted, or already known (not asked). */
  total: 'counts' | 'count' | 'known';
  /** The copy's flags are already known (not asked). */
  flagsKnown: boolean;
  /** Read after this sourcedId (a bookmark) and skip `skip` rows from there. */
  after: string | undefined;
  skip: number;
}

/**
 * The statement: live, latest, total, bits, numbers, texts and docs (the page as one json_agg
 * text), `cond` being the query's conditions over the row alias `r` (already in `p`).
 */
export function pageSql(p: Params, copy: CopyMeta, q: MirrorQuery, cond: string, shape: PageShape, rowsOf: (d: string, c: string, s: string) => string): string {
  const d = p.add(copy.district);
  const c = p.add(q.collection);
  const s = p.add(copy.seq, 'int');
  const dir = q.desc === true ? 'DESC' : 'ASC';
  const rows = shape.latest ? `(SELECT ${ROW_COLUMNS} FROM mirror_records WHERE district = ${d} AND collection = ${c} AND valid_to IS NULL)` : rowsOf(d, c, s);
  const where = (extra: string[]) => {
    const all = [...(cond ? [cond] : []), ...extra];
    return all.length ? `WHERE ${all.join(' AND ')}` : '';
  };
  const after = shape.after === undefined ? [] : [`r.sourced_id ${q.desc === true ? '<' : '>'} ${p.add(shape.after)}`];
  const total = {
    counts: `coalesce((SELECT (counts ->> ${c})::int FROM mirror_copies WHERE district = ${d} AND seq = ${s}), 0)`,
    count: `(SELECT count(*)::int FROM ${rows} r ${where([])})`,
    known: 'NULL::int',
  }[shape.total];
  const bits = shape.flagsKnown ? 'NULL::int' : `(SELECT coalesce(bit_or(f.flags), 0)::int FROM ${rows} f WHERE f.flags <> 0)`;
  const latest = shape.latest ? `coalesce((SELECT max(seq) FROM mirror_copies WHERE district = ${d}) = ${s}, false)` : 'false';
  const page = `SELECT r.sourced_id${shape.latest ? '' : ', r.valid_from'}${shape.skip === 0 ? ', r.doc' : ''} FROM ${rows} r ${where(after)}
    ORDER BY r.sourced_id ${dir} OFFSET ${p.add(shape.skip, 'bigint')} LIMIT ${p.add(q.limit, 'bigint')}`;
  // Nothing skipped: the page's rows carry their documents. Rows skipped (an offset past the
  // last bookmark): only their ids are walked (from the index alone once vacuumed), then the
  // page's documents are fetched. The page's size and last sourcedId come with it (the next
  // bookmark), so its text never has to be parsed here.
  const rowsWithDocs =
    shape.skip === 0
      ? `(${page}) d`
      : `(${page}) pg JOIN mirror_records d ON d.district = ${d} AND d.collection = ${c} AND d.sourced_id = pg.sourced_id
            AND ${shape.latest ? 'd.valid_to IS NULL' : 'd.valid_from = pg.valid_from'}`;
  const agg = `SELECT json_agg(d.doc ORDER BY d.sourced_id ${dir})::text AS docs, count(*)::int AS n,
      ${q.desc === true ? 'min' : 'max'}(d.sourced_id) AS last FROM ${rowsWithDocs}`;
  return `SELECT EXISTS (SELECT 1 FROM mirror_copies WHERE district = ${d} AND seq = ${s}) AS live, ${latest} AS latest,
    ${total} AS total, ${bits} AS bits, 0 AS numbers, 0 AS texts, a.docs, a.n, a.last FROM (${agg}) a`;
}
