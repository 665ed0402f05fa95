// Observed changes on PostgreSQL (mirror_changes): written in the transaction that publishes a
// copy or applies a delta, by the same statements that close and add record rows (a closed row
// is recorded as deleted, then an added row of the same record turns that into updated), read
// by the feed and by `dateLastModified>` reads, pruned past the change retention. mirror_feeds
// keeps, per district, the horizon (every change of a later copy is held) and the counts.
import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres';
import { MIRROR_COLLECTIONS } from '../core/oneroster/collections.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import type { PgContext } from './postgres-db.js';
import { collectionNumber } from './retention.js';
import type { ChangeCounts, ChangeLog, ChangeOp, ChangesQuery, CopyMeta, MirrorCollection, ObservedChange } from './types.js';

export const OPS: readonly ChangeOp[] = ['created', 'updated', 'deleted'];
const OP_CREATED = 1;
const OP_UPDATED = 2;
const OP_DELETED = 3;
/** The collection number of a place at the end of its copy: after every collection. */
const END = 32767;

/** The collection names as a text[] literal: array_position(...) - 1 is a collection's number. */
export const COLLECTION_NAMES = `{${MIRROR_COLLECTIONS.join(',')}}`;

/** The district's change record starts at its first copy (nothing before it is a change). */
export async function startFeed(tx: TransactionSql, district: string, seq: number): Promise<void> {
  await tx`DELETE FROM mirror_changes WHERE district = ${district}`;
  await tx`
    INSERT INTO mirror_feeds (district, horizon, held, tombstones) VALUES (${district}, ${seq}::int, 0, 0)
    ON CONFLICT (district) DO UPDATE SET horizon = excluded.horizon, held = 0, tombstones = 0, last_seq = NULL, last_changed = NULL`;
}

/** A copy made before changes were recorded (an older schema) starts the record where it is. */
export async function keepFeed(tx: TransactionSql, district: string, previousSeq: number): Promise<void> {
  await tx`INSERT INTO mirror_feeds (district, horizon, held, tombstones) VALUES (${district}, ${previousSeq}::int, 0, 0) ON CONFLICT (district) DO NOTHING`;
}

/**
 * Runs `dml` (an UPDATE closing record rows, or an INSERT adding them, without RETURNING) so
 * that, when `record`, every row it touches is recorded as a change of copy `seq`: closed rows
 * as deleted, added rows as created, or as updated when the same copy closed the record's
 * previous row (the closing statement runs first).
 */
type Statement = PendingQuery<Row[]>;

export function recorded(tx: TransactionSql, dml: Statement, kind: 'closed' | 'added', at: { record: boolean; district: string; seq: number; at: number }): Statement {
  if (!at.record) return dml;
  const insert = tx`
    WITH touched AS (${dml} RETURNING collection, sourced_id, doc)
    INSERT INTO mirror_changes (district, seq, coll, sourced_id, op, at, doc)
    SELECT ${at.district}, ${at.seq}::int, (array_position(${COLLECTION_NAMES}::text[], t.collection) - 1)::smallint, t.sourced_id,
      ${kind === 'closed' ? OP_DELETED : OP_CREATED}::smallint, ${at.at}::float8, t.doc
    FROM touched t`;
  return kind === 'closed' ? insert : tx`${insert} ON CONFLICT (district, seq, coll, sourced_id) DO UPDATE SET op = ${OP_UPDATED}::smallint, doc = excluded.doc`;
}

/** What copy `seq` recorded, per collection and operation, kept as the feed's last; its counts moved by it. */
export async function settleChanges(tx: TransactionSql, district: string, seq: number): Promise<void> {
  const rows = await tx<Array<{ coll: number; op: number; n: number }>>`
    SELECT coll, op, count(*)::int AS n FROM mirror_changes WHERE district = ${district} AND seq = ${seq}::int GROUP BY coll, op`;
  const out: Partial<Record<MirrorCollection, ChangeCounts>> = {};
  let held = 0;
  let tombstones = 0;
  for (const r of rows) {
    const name = MIRROR_COLLECTIONS[r.coll];
    if (!name) continue;
    (out[name] ??= { created: 0, updated: 0, deleted: 0 })[OPS[r.op - 1]!] += r.n;
    held += r.n;
    if (r.op === OP_DELETED) tombstones += r.n;
  }
  await tx`
    UPDATE mirror_feeds SET held = held + ${held}::int, tombstones = tombstones + ${tombstones}::int, last_seq = ${seq}::int, last_changed = ${JSON.stringify(out)}::text::jsonb
    WHERE district = ${district}`;
}

/** Changes observed before `cutoff` forgotten, with every change of their copies and earlier ones. */
export async function pruneChanges(tx: TransactionSql, district: string, cutoff: number): Promise<void> {
  const [last] = await tx<Array<{ seq: number | null }>>`
    SELECT max(seq) AS seq FROM mirror_changes WHERE district = ${district} AND at < ${cutoff}::float8`;
  if (last?.seq == null) return;
  const gone = await tx<Array<{ n: number; t: number }>>`
    WITH gone AS (DELETE FROM mirror_changes WHERE district = ${district} AND seq <= ${last.seq}::int RETURNING op)
    SELECT count(*)::int AS n, (count(*) FILTER (WHERE op = ${OP_DELETED}))::int AS t FROM gone`;
  await tx`
    UPDATE mirror_feeds SET horizon = greatest(horizon, ${last.seq}::int), held = held - ${gone[0]!.n}::int, tombstones = tombstones - ${gone[0]!.t}::int
    WHERE district = ${district}`;
}

interface ChangeRow {
  seq: number;
  coll: number;
  sourced_id: string;
  op: number;
  at: number;
  doc: Json;
}

function toChange(r: ChangeRow): ObservedChange | undefined {
  const collection = MIRROR_COLLECTIONS[r.coll];
  const op = OPS[r.op - 1];
  return collection && op ? { seq: r.seq, collection, sourcedId: r.sourced_id, op, at: Number(r.at), record: r.doc } : undefined;
}

const rowsJson = (alias: string) => `json_build_object('seq', ${alias}.seq, 'coll', ${alias}.coll, 'sourced_id', ${alias}.sourced_id, 'op', ${alias}.op, 'at', ${alias}.at, 'doc', ${alias}.doc)`;

export async function readChanges(ctx: PgContext, district: string, q: ChangesQuery): Promise<ObservedChange[] | undefined> {
  const colls = `{${q.collections.map(collectionNumber).join(',')}}`;
  const after = q.after.collection === undefined ? [q.after.seq, END, ''] : [q.after.seq, collectionNumber(q.after.collection), q.after.sourcedId ?? ''];
  const [row] = await ctx.sql.unsafe<Array<{ horizon: number | null; current: number | null; rows: string | null }>>(
    `SELECT (SELECT horizon FROM mirror_feeds WHERE district = $1) AS horizon,
       (SELECT max(seq) FROM mirror_copies WHERE district = $1) AS current,
       (SELECT json_agg(${rowsJson('c')} ORDER BY c.seq, c.coll, c.sourced_id)::text FROM (
          SELECT * FROM mirror_changes
          WHERE district = $1 AND (district, seq, coll, sourced_id) > ($1, $2::int, $3::int, $4::text COLLATE "C")
            AND seq <= $5::int AND coll = ANY ($6::smallint[])
          ORDER BY seq, coll, sourced_id LIMIT $7::int) c) AS rows`,
    [district, after[0]!, after[1]!, after[2]!, q.upTo, colls, q.limit],
  );
  if (!row || row.horizon === null || row.current === null) return undefined;
  // A place inside the horizon's copy is gone too: that copy's changes are no longer all held.
  if (q.after.seq < row.horizon || (q.after.seq === row.horizon && q.after.collection !== undefined) || q.after.seq > row.current) return undefined;
  return (row.rows ? (JSON.parse(row.rows) as ChangeRow[]) : []).flatMap((r) => toChange(r) ?? []);
}

export async function changedSince(ctx: PgContext, copy: CopyMeta, collection: MirrorCollection, since: number, inclusive: boolean, max: number): Promise<ObservedChange[] | undefined> {
  const [row] = await ctx.sql.unsafe<Array<{ n: number; rows: string | null }>>(
    `WITH latest AS MATERIALIZED (
       SELECT DISTINCT ON (sourced_id) * FROM mirror_changes
       WHERE district = $1 AND coll = $2::smallint AND seq <= $3::int AND at ${inclusive ? '>=' : '>'} $4::float8
       ORDER BY sourced_id, seq DESC LIMIT $5::int)
     SELECT (SELECT count(*)::int FROM latest) AS n, (SELECT json_agg(${rowsJson('l')})::text FROM latest l) AS rows`,
    [copy.district, collectionNumber(collection), copy.seq, since, max + 1],
  );
  if (!row || row.n > max) return undefined;
  return (row.rows ? (JSON.parse(row.rows) as ChangeRow[]) : []).flatMap((r) => toChange(r) ?? []);
}

export async function changeLog(sql: Sql, district: string): Promise<ChangeLog | undefined> {
  const [row] = await sql<Array<{ horizon: number; held: number; tombstones: number; oldest: number | null; last_seq: number | null; last_changed: Partial<Record<MirrorCollection, ChangeCounts>> | null }>>`
    SELECT f.horizon, f.held, f.tombstones, f.last_seq, f.last_changed,
      (SELECT at FROM mirror_changes c WHERE c.district = f.district ORDER BY at LIMIT 1) AS oldest
    FROM mirror_feeds f WHERE f.district = ${district}`;
  if (!row) return undefined;
  return {
    horizon: row.horizon,
    held: row.held,
    tombstones: row.tombstones,
    ...(row.oldest !== null ? { oldestAt: Number(row.oldest) } : {}),
    ...(row.last_seq !== null ? { last: { seq: row.last_seq, changed: row.last_changed ?? {} } } : {}),
  };
}

