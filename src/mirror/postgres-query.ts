// Queries over one copy: the filter, ids, order, paging and total pushed down to PostgreSQL
// (postgres-sql.ts), the page coming back as one json_agg text parsed once. When a clause
// cannot be said exactly in SQL, or the copy holds records on which PostgreSQL and JavaScript
// would disagree (recordFlags), the rows matching the rest come back (at most
// MAX_JS_CANDIDATES) and matchesFilter / sortRecords finish the work in JavaScript.
import { compileFilter } from '../core/oneroster/filter.js';
import { refId } from '../core/oneroster/mapping/guid-refs.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import { compareIds, sortRecords } from '../core/oneroster/record-order.js';
import { sourcedIdOf } from './memory-collection.js';
import { seqOf, type PgContext } from './postgres-db.js';
import { bookmark, pageSql, queryKey, type PageMemo, type PageShape } from './postgres-page.js';
import { FLAG_ASTRAL, FLAG_HIGH_BMP, FLAG_ID_ASTRAL, FLAG_ID_HIGH_BMP, FLAG_NESTED, FLAG_REF_SHAPE, Params, ROW_COLUMNS, sortPath, whereSql, type WhereSql } from './postgres-sql.js';
import { isMirrorCollection, type CopyMeta, type MirrorCollection, type MirrorJoin, type MirrorPage, type MirrorQuery } from './types.js';

/** The most rows a query finishing in JavaScript may fetch; past it the query is refused. */
export const MAX_JS_CANDIDATES = 200_000;

/**
 * The copy's rows of one collection, as a subquery aliased by the caller. Two branches so the
 * current rows' partial indexes (valid_to IS NULL) serve the usual case; PostgreSQL pushes the
 * caller's conditions into both.
 */
function rowsOf(p: Params, copy: CopyMeta, collection: MirrorCollection): string {
  return rowsAt(p.add(copy.district), p.add(collection), p.add(copy.seq, 'int'));
}

/** rowsOf with its parameters already placed: district, collection, copy number. */
function rowsAt(d: string, c: string, s: string): string {
  const cols = ROW_COLUMNS;
  return `(SELECT ${cols} FROM mirror_records WHERE district = ${d} AND collection = ${c} AND valid_to IS NULL AND valid_from <= ${s}
    UNION ALL SELECT ${cols} FROM mirror_records WHERE district = ${d} AND collection = ${c} AND valid_to > ${s} AND valid_from <= ${s})`;
}

const liveSql = (p: Params, copy: CopyMeta) => `EXISTS (SELECT 1 FROM mirror_copies WHERE district = ${p.add(copy.district)} AND seq = ${p.add(copy.seq, 'int')})`;

function checkQuery(q: MirrorQuery): void {
  if (!isMirrorCollection(q.collection)) throw new TypeError(`mirror: unknown collection ${JSON.stringify(q.collection)}`);
  if (!Number.isSafeInteger(q.offset) || q.offset < 0) throw new RangeError('mirror: query offset must be a non-negative integer');
  if (!Number.isSafeInteger(q.limit) || q.limit < 0) throw new RangeError('mirror: query limit must be a non-negative integer');
}

/** Whether this store's epoch and copy number say the copy could be ours at all. */
const ours = (ctx: PgContext, copy: CopyMeta) => seqOf(ctx.epoch, copy.version) === copy.seq;

export async function getRecord(ctx: PgContext, copy: CopyMeta, collection: MirrorCollection, sourcedId: string): Promise<Json | undefined> {
  if (!ours(ctx, copy) || !isMirrorCollection(collection) || typeof sourcedId !== 'string') return undefined;
  const p = new Params();
  const text = `SELECT ${liveSql(p, copy)} AS live, (SELECT r.doc::text FROM ${rowsOf(p, copy, collection)} r WHERE r.sourced_id = ${p.add(sourcedId)}) AS doc`;
  const [row] = await ctx.sql.unsafe<Array<{ live: boolean; doc: string | null }>>(text, p.values, { prepare: true });
  return row?.live && row.doc !== null ? (JSON.parse(row.doc) as Json) : undefined;
}

export interface Plan {
  where: WhereSql | undefined;
  /** jsonpath of the sort value; undefined for sourcedId order. */
  sort: string | undefined;
  /** The sort path is no plain field path: JavaScript sorts. */
  sortInJs: boolean;
}

function plan(q: MirrorQuery, p: Params, ctx: Pick<PgContext, 'icu'>, refHints: boolean): Plan {
  const where = q.where ? whereSql(q.where, p, { icu: ctx.icu, refHints }) : undefined;
  if (!q.sort || q.sort === 'sourcedId') return { where, sort: undefined, sortInJs: false };
  const sort = sortPath(q.sort);
  return { where, sort, sortInJs: sort === undefined };
}

function conditions(p: Params, q: MirrorQuery, where: WhereSql | undefined): string {
  const parts: string[] = [];
  if (where?.sql) parts.push(where.sql);
  if (q.ids) parts.push(`r.sourced_id = ANY (${p.texts(q.ids)})`);
  if (q.via) parts.push('r.sourced_id IN (SELECT id FROM via_ids)');
  if (q.exclude?.length) parts.push(`NOT (r.sourced_id = ANY (${p.texts(q.exclude)}))`);
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/** refId (core/oneroster/mapping) of a GUIDRef field, for rows whose flags are 0 (the field is then an object with a string sourcedId, or absent). */
const refSql = (field: 'user' | 'class') => `nullif(r.ref_${field}, '')`;

/**
 * The join's ids as the statement's first CTE (`via_ids`), read once per statement, or
 * undefined when SQL cannot say the join's filter exactly (JavaScript then resolves it).
 */
function viaCte(p: Params, copy: CopyMeta, via: MirrorJoin, icu: boolean): string | undefined {
  if (via.pick !== 'user' && via.pick !== 'class') throw new TypeError(`mirror: a join picks user or class, not ${JSON.stringify(via.pick)}`);
  const where = via.where ? whereSql(via.where, p, { icu, refHints: true }) : undefined;
  if (where && !where.exact) return undefined;
  return `via_ids AS MATERIALIZED (SELECT DISTINCT ${refSql(via.pick)} AS id FROM ${rowsOf(p, copy, via.collection)} r ${where?.sql ? `WHERE ${where.sql}` : ''})`;
}

/** The statement `text` with the join's CTE in front. */
function withCte(text: string, cte: string | undefined): string {
  if (!cte) return text;
  return text.startsWith('WITH ') ? `WITH ${cte}, ${text.slice(5)}` : `WITH ${cte} ${text}`;
}

/** ORDER BY for rows with columns sourced_id and sv (the sort value, jsonb): sortRecords' order when sv is all numbers or all text. */
function orderBy(alias: string, sorted: boolean, desc: boolean): string {
  const dir = desc ? 'DESC' : 'ASC';
  if (!sorted) return `${alias}.sourced_id ${dir}`;
  const t = `jsonb_typeof(${alias}.sv)`;
  return [
    `(${alias}.sv IS NULL OR ${t} NOT IN ('number', 'string', 'boolean'))`,
    `CASE WHEN ${t} = 'number' THEN (${alias}.sv)::numeric END ${dir} NULLS LAST`,
    `CASE WHEN ${t} IN ('string', 'boolean') THEN ${alias}.sv #>> '{}' END COLLATE "C" ${dir} NULLS LAST`,
    `${alias}.sourced_id ASC`,
  ].join(', ');
}

interface PushedRow {
  live: boolean;
  total: number;
  numbers: number;
  texts: number;
  bits: number;
  docs: string | null;
  /** Records in the page. */
  n: number;
}

function pushedSql(p: Params, copy: CopyMeta, q: MirrorQuery, pl: Plan): string {
  const sorted = pl.sort !== undefined;
  const rows = rowsOf(p, copy, q.collection);
  const sv = sorted ? `, jsonb_path_query_first(r.doc, ${p.path(pl.sort!)}) AS sv` : '';
  const where = conditions(p, q, pl.where);
  const typed = (types: string) => (sorted ? `(SELECT count(*)::int FROM m WHERE jsonb_typeof(m.sv) IN (${types}))` : '0');
  return `WITH m AS MATERIALIZED (SELECT r.sourced_id, r.valid_from${sv} FROM ${rows} r ${where}),
    p AS (SELECT m.* FROM m ORDER BY ${orderBy('m', sorted, q.desc === true)} OFFSET ${p.add(q.offset, 'bigint')} LIMIT ${p.add(q.limit, 'bigint')})
    SELECT ${liveSql(p, copy)} AS live,
      (SELECT count(*)::int FROM m) AS total,
      ${typed("'number'")} AS numbers,
      ${typed("'string', 'boolean'")} AS texts,
      (SELECT coalesce(bit_or(f.flags), 0)::int FROM ${rowsOf(p, copy, q.collection)} f WHERE f.flags <> 0) AS bits,
      (SELECT count(*)::int FROM p) AS n,
      (SELECT json_agg(d.doc ORDER BY ${orderBy('p', sorted, q.desc === true)})::text
         FROM p JOIN mirror_records d ON d.district = ${p.add(copy.district)} AND d.collection = ${p.add(q.collection)}
           AND d.sourced_id = p.sourced_id AND d.valid_from = p.valid_from) AS docs`;
}

/** Why the pushed-down answer cannot stand, or undefined when it is exact. */
function doubt(row: PushedRow, q: MirrorQuery, pl: Plan): 'flagged' | 'sort' | 'no-ref-hints' | undefined {
  const both = (bits: number, a: number, b: number) => (bits & a) !== 0 && (bits & b) !== 0;
  if (row.bits & FLAG_NESTED && (q.where || pl.sort)) return 'flagged';
  if ((pl.where?.ordered || pl.sort) && both(row.bits | (pl.where?.valueFlags ?? 0), FLAG_ASTRAL, FLAG_HIGH_BMP)) return 'flagged';
  if (both(row.bits, FLAG_ID_ASTRAL, FLAG_ID_HIGH_BMP)) return 'flagged';
  if (row.numbers > 0 && row.texts > 0) return 'sort'; // sortRecords' order of numbers among strings is JavaScript's own
  if (row.bits & FLAG_REF_SHAPE && pl.where?.refHint) return 'no-ref-hints';
  return undefined;
}

/** A page in sourcedId order (postgres-page.ts): how it was asked, so its answer can be remembered. */
interface PageAsk {
  key: string;
  shape: PageShape;
  known: number | undefined;
  flags: number | undefined;
}

export interface Pushed {
  text: string;
  values: string[];
  plan: Plan;
  page?: PageAsk | undefined;
}

type QueryCtx = Pick<PgContext, 'icu'> & { memo?: PageMemo | undefined };

function pageQuery(ctx: QueryCtx, copy: CopyMeta, q: MirrorQuery, p: Params, pl: Plan, cte: string | undefined): Pushed {
  const cond = conditions(p, q, pl.where).replace(/^WHERE /, '');
  const key = queryKey(copy, q, `${cte ?? ''}\u0000${cond}`, p.values);
  const known = ctx.memo?.known(key);
  const mark = bookmark(known, q.offset);
  const flags = ctx.memo?.flags(copy, q.collection);
  const shape: PageShape = {
    latest: !ctx.memo?.isEarlier(copy),
    total: known?.total !== undefined ? 'known' : cond ? 'count' : 'counts',
    flagsKnown: flags !== undefined,
    after: mark?.[1],
    skip: q.offset - (mark?.[0] ?? 0),
  };
  const text = withCte(pageSql(p, copy, q, cond, shape, rowsAt), cte);
  return { text, values: p.values, plan: pl, page: { key, shape, known: known?.total, flags } };
}

/** The SQL that answers `q` wholly, or undefined when JavaScript must finish it (exported for EXPLAIN in tests). */
export function pushedQuery(ctx: QueryCtx, copy: CopyMeta, q: MirrorQuery, refHints = true): Pushed | undefined {
  const p = new Params();
  const cte = q.via && viaCte(p, copy, q.via, ctx.icu);
  if (q.via && !cte) return undefined;
  const pl = plan(q, p, ctx, refHints);
  if (pl.sortInJs || (pl.where && !pl.where.exact)) return undefined;
  if (pl.sort === undefined) return pageQuery(ctx, copy, q, p, pl, cte);
  return { text: withCte(pushedSql(p, copy, q, pl), cte), values: p.values, plan: pl };
}

interface PageRow extends PushedRow {
  latest: boolean;
  /** The page's last sourcedId (pages in sourcedId order). */
  last?: string | null;
}

/** A page whose records are parsed from `docs` only when first read (an answer built from its text never reads them). */
function lazyPage(docs: string | null, total: number, size: number): MirrorPage {
  if (docs === null) return { records: [], total };
  let records: Json[] | undefined;
  return {
    total,
    size,
    text: docs,
    get records() {
      return (records ??= JSON.parse(docs) as Json[]);
    },
  };
}

export async function runQuery(ctx: PgContext, copy: CopyMeta, q: MirrorQuery, refHints = true): Promise<MirrorPage> {
  checkQuery(q);
  if (!ours(ctx, copy)) return { records: [], total: 0 };
  if (q.via && !(await viaInSql(ctx, copy, q.via))) return runQuery(ctx, copy, await viaAsIds(ctx, copy, q), refHints);
  const pushed = pushedQuery(ctx, copy, q, refHints);
  if (!pushed) return finishInJs(ctx, copy, q, false);
  const { plan: pl, page } = pushed;
  const [row] = await ctx.sql.unsafe<PageRow[]>(pushed.text, pushed.values, { prepare: false });
  if (!row?.live) return { records: [], total: 0 };
  if (page?.shape.latest && !row.latest) {
    // A later copy exists: this one's rows are no longer the current rows alone.
    ctx.memo?.learnEarlier(copy);
    return runQuery(ctx, copy, q, refHints);
  }
  if (page) {
    row.total ??= page.known!;
    row.bits ??= page.flags!;
    ctx.memo?.learnFlags(copy, q.collection, row.bits);
  }
  const why = doubt(row, q, pl);
  if (why === 'no-ref-hints') return runQuery(ctx, copy, q, false);
  if (why) return finishInJs(ctx, copy, q, why === 'flagged');
  ctx.onQueryPath?.('pushed');
  if (page) ctx.memo?.learn(page.key, row.total, typeof row.last === 'string' ? [q.offset + row.n, row.last] : undefined);
  return lazyPage(row.docs, row.total, row.n);
}

/** The flags of a copy's collection, OR-ed (remembered: a copy never changes). */
async function collectionFlags(ctx: PgContext, copy: CopyMeta, collection: MirrorCollection): Promise<number> {
  const known = ctx.memo?.flags(copy, collection);
  if (known !== undefined) return known;
  const p = new Params();
  const [row] = await ctx.sql.unsafe<Array<{ bits: number }>>(`SELECT coalesce(bit_or(r.flags), 0)::int AS bits FROM ${rowsOf(p, copy, collection)} r WHERE r.flags <> 0`, p.values, { prepare: false });
  ctx.memo?.learnFlags(copy, collection, row?.bits ?? 0);
  return row?.bits ?? 0;
}

/** Whether SQL resolves the join exactly: its filter says all in SQL and no record of its collection is one SQL may misjudge. */
async function viaInSql(ctx: PgContext, copy: CopyMeta, via: MirrorJoin): Promise<boolean> {
  if (via.where && !whereSql(via.where, new Params(), { icu: ctx.icu, refHints: true }).exact) return false;
  return (await collectionFlags(ctx, copy, via.collection)) === 0;
}

/** The join resolved here: the records it reads, their GUIDRefs as ids (intersected with the query's own). */
async function viaAsIds(ctx: PgContext, copy: CopyMeta, q: MirrorQuery): Promise<MirrorQuery> {
  const via = q.via!;
  const read = await runQuery(ctx, copy, { collection: via.collection, where: via.where, offset: 0, limit: MAX_JS_CANDIDATES + 1 });
  if (read.total > MAX_JS_CANDIDATES) throw new Error(`mirror: this join would read more than ${MAX_JS_CANDIDATES} ${via.collection} records; narrow the filter`);
  const named = new Set(read.records.flatMap((r) => refId(r[via.pick]) ?? []));
  const ids = q.ids ? q.ids.filter((id) => named.has(id)) : [...named];
  return { ...q, via: undefined, ids };
}

/** Rows whose flags say SQL may misjudge them (FLAG_REF_SHAPE aside: the fallback uses no GUIDRef hints). */
const FLAGGED = FLAG_NESTED | FLAG_ASTRAL | FLAG_HIGH_BMP;

/**
 * The rows the SQL part of the filter lets through (with `flagged`, also every row SQL may
 * misjudge), then matchesFilter, sourcedId order, sortRecords and the page in JavaScript.
 */
async function finishInJs(ctx: PgContext, copy: CopyMeta, q: MirrorQuery, flagged: boolean): Promise<MirrorPage> {
  const p = new Params();
  const rows = rowsOf(p, copy, q.collection);
  const where = q.where ? whereSql(q.where, p, { icu: ctx.icu, refHints: false }) : undefined;
  if (where?.sql && flagged) where.sql = `(${where.sql} OR (r.flags & ${FLAGGED}) <> 0)`;
  const cte = q.via && viaCte(p, copy, q.via, ctx.icu);
  const cond = conditions(p, q, where);
  const text = withCte(`WITH c AS MATERIALIZED (SELECT r.doc FROM ${rows} r ${cond} LIMIT ${MAX_JS_CANDIDATES + 1})
    SELECT ${liveSql(p, copy)} AS live, (SELECT count(*)::int FROM c) AS n,
      CASE WHEN (SELECT count(*) FROM c) <= ${MAX_JS_CANDIDATES} THEN (SELECT json_agg(c.doc)::text FROM c) END AS docs`, cte);
  const [row] = await ctx.sql.unsafe<Array<{ live: boolean; n: number; docs: string | null }>>(text, p.values, { prepare: false });
  if (!row?.live) return { records: [], total: 0 };
  if (row.n > MAX_JS_CANDIDATES) {
    throw new Error(`mirror: this query would filter more than ${MAX_JS_CANDIDATES} ${q.collection} records in JavaScript; narrow the filter`);
  }
  ctx.onQueryPath?.('js');
  let records = (row.docs ? (JSON.parse(row.docs) as Json[]) : []).sort((a, b) => compareIds(sourcedIdOf(a) ?? '', sourcedIdOf(b) ?? ''));
  if (q.where) records = records.filter(compileFilter(q.where));
  if (q.sort && q.sort !== 'sourcedId') records = sortRecords(records, q.sort, q.desc === true);
  else if (q.desc) records.reverse();
  return { records: records.slice(q.offset, q.offset + q.limit), total: records.length };
}
