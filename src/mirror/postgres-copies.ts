// Copies after their publication: deltas applied as the next copy, agreement times, lookups by
// version, pull status, and forgetting a district.
import type { Json } from '../core/oneroster/mapping/types.js';
import type { TransactionSql } from 'postgres';
import { COPY_COLUMNS, copyMeta, hashJoinsOnly, latestCopy, lockDistrictWrites, nextSeq, seqOf, type CopyRow, type PgContext } from './postgres-db.js';
import { prune } from './postgres-retention.js';
import { keepFeed, recorded, settleChanges } from './postgres-changes.js';
import { batchRows, BATCH } from './postgres-staging.js';
import { sourcedIdOf } from './memory-collection.js';
import { isMirrorCollection, type CopyMeta, type MirrorChange, type MirrorCollection } from './types.js';

export async function currentCopy(ctx: PgContext, district: string): Promise<CopyMeta | undefined> {
  const row = await latestCopy(ctx.sql, district);
  return row && copyMeta(ctx.epoch, row);
}

export async function copyByVersion(ctx: PgContext, district: string, version: string): Promise<CopyMeta | undefined> {
  const seq = typeof version === 'string' ? seqOf(ctx.epoch, version) : undefined;
  if (seq === undefined) return undefined;
  const rows = await ctx.sql.unsafe<CopyRow[]>(
    `SELECT ${COPY_COLUMNS}, (SELECT min(n.published_at) FROM mirror_copies n WHERE n.district = c.district AND n.seq > c.seq) AS superseded_at
     FROM mirror_copies c WHERE district = $1 AND seq = $2::int`,
    [district, seq],
  );
  return rows[0] && copyMeta(ctx.epoch, rows[0]);
}

export async function agreed(ctx: PgContext, district: string, at: number): Promise<void> {
  await ctx.sql`
    UPDATE mirror_copies SET agreed_at = ${at}::float8
    WHERE district = ${district} AND seq = (SELECT max(seq) FROM mirror_copies WHERE district = ${district})`;
}

/** The delta per collection, merged in order: the final record of each upserted id, and the ids deleted last. */
function merge(changes: readonly MirrorChange[]): Map<MirrorCollection, Map<string, Json | null>> {
  const out = new Map<MirrorCollection, Map<string, Json | null>>();
  for (const change of changes) {
    if (!isMirrorCollection(change.collection)) throw new TypeError(`mirror: unknown collection ${JSON.stringify(change.collection)}`);
    let byId = out.get(change.collection);
    if (!byId) out.set(change.collection, (byId = new Map()));
    for (const r of change.upserts) {
      const id = sourcedIdOf(r);
      if (id !== undefined) byId.set(id, r);
    }
    for (const id of change.deletes ?? []) byId.set(id, null);
  }
  return out;
}

const size = (merged: Map<MirrorCollection, Map<string, Json | null>>) => [...merged.values()].reduce((n, byId) => n + byId.size, 0);

/** Writes one collection's delta as copy `seq`, recording its changes; returns how many rows it closed or added. */
async function applyCollection(tx: TransactionSql, district: string, collection: string, byId: Map<string, Json | null>, seq: number, at: number): Promise<number> {
  let touched = 0;
  const record = { record: true, district, seq, at };
  const upserts = batchRows([...byId.values()].filter((r): r is Json => r !== null));
  for (let i = 0; i < upserts.length; i += BATCH) {
    const batch = JSON.stringify(upserts.slice(i, i + BATCH));
    const closed = await recorded(
      tx,
      tx`
      UPDATE mirror_records r SET valid_to = ${seq}::int
      FROM jsonb_array_elements(${batch}::text::jsonb) AS e(v)
      WHERE r.district = ${district} AND r.collection = ${collection} AND r.valid_to IS NULL
        AND r.sourced_id = e.v ->> 0 AND r.hash <> md5((e.v -> 2)::text)::uuid`,
      'closed',
      record,
    );
    const added = await recorded(
      tx,
      tx`
      INSERT INTO mirror_records (district, collection, sourced_id, valid_from, hash, flags, doc)
      SELECT ${district}, ${collection}, e.v ->> 0, ${seq}::int, md5((e.v -> 2)::text)::uuid, (e.v ->> 1)::smallint, e.v -> 2
      FROM jsonb_array_elements(${batch}::text::jsonb) AS e(v)
      WHERE NOT EXISTS (SELECT 1 FROM mirror_records r WHERE r.district = ${district} AND r.collection = ${collection}
                          AND r.sourced_id = e.v ->> 0 AND r.valid_to IS NULL)`,
      'added',
      record,
    );
    touched += closed.count + added.count;
  }
  const deletes = [...byId].filter(([, r]) => r === null).map(([id]) => id);
  for (let i = 0; i < deletes.length; i += BATCH) {
    const gone = await recorded(
      tx,
      tx`
      UPDATE mirror_records SET valid_to = ${seq}::int
      WHERE district = ${district} AND collection = ${collection} AND valid_to IS NULL
        AND sourced_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(deletes.slice(i, i + BATCH))}::text::jsonb))`,
      'closed',
      record,
    );
    touched += gone.count;
  }
  return touched;
}

/**
 * Applies a delta as the next copy when it changes anything (contents compared by hash, so an
 * upsert identical to the stored record changes nothing). The copy number is only taken, and
 * kept, when it does: a delta that changes nothing rolls back to no trace.
 */
export async function applyDelta(ctx: PgContext, district: string, changes: readonly MirrorChange[], at: number): Promise<CopyMeta | undefined> {
  if (!Number.isFinite(at)) throw new TypeError('mirror: apply needs `at`, a time in ms');
  const merged = merge(changes);
  const nothing = Symbol('nothing changed');
  try {
    const row = await ctx.sql.begin(async (tx) => {
      await lockDistrictWrites(tx, district);
      const previous = await latestCopy(tx, district);
      if (!previous) throw nothing;
      const seq = await nextSeq(tx, district);
      await keepFeed(tx, district, previous.seq);
      // Copies are observed in time order whatever the replicas' clocks say: the feed's `at` never goes back.
      const when = Math.max(at, Number(previous.published_at));
      // A large delta meets whole collections: hash joins, as publish does; a small one is best
      // served by index lookups, which the default plans use.
      if (size(merged) > BATCH / 2) await hashJoinsOnly(tx);
      let touched = 0;
      for (const [collection, byId] of merged) touched += await applyCollection(tx, district, collection, byId, seq, when);
      if (touched === 0) throw nothing;
      const counts: CopyMeta['counts'] = { ...previous.counts };
      const names = JSON.stringify([...merged.keys()]);
      for (const c of merged.keys()) counts[c] = 0;
      const now = await tx<Array<{ collection: MirrorCollection; n: number }>>`
        SELECT collection, count(*)::int AS n FROM mirror_records
        WHERE district = ${district} AND valid_to IS NULL AND collection IN (SELECT jsonb_array_elements_text(${names}::text::jsonb))
        GROUP BY collection`;
      for (const c of now) counts[c.collection] = c.n;
      const [copy] = await tx.unsafe<CopyRow[]>(
        `INSERT INTO mirror_copies (district, seq, records_version, published_at, agreed_at, counts)
         VALUES ($1, $2::int, $3, $4::float8, $5::float8, $6::text::jsonb) RETURNING ${COPY_COLUMNS}`,
        [district, seq, previous.records_version, when, Number(previous.agreed_at), JSON.stringify(counts)],
      );
      await settleChanges(tx, district, seq);
      await prune(tx, ctx, district, seq);
      return copy!;
    });
    return copyMeta(ctx.epoch, row as CopyRow);
  } catch (err) {
    if (err === nothing) return undefined;
    throw err;
  }
}

export async function readStatus(ctx: PgContext, district: string): Promise<string | undefined> {
  const [row] = await ctx.sql<Array<{ status: string }>>`SELECT status FROM mirror_status WHERE district = ${district}`;
  return row?.status;
}

export async function writeStatus(ctx: PgContext, district: string, json: string): Promise<void> {
  await ctx.sql`
    INSERT INTO mirror_status (district, status, updated_at) VALUES (${district}, ${json}, ${ctx.now()}::float8)
    ON CONFLICT (district) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`;
}

/** Forgets the district's copies, records, staging and status (its copy numbers go on from where they were). */
export async function dropDistrict(ctx: PgContext, district: string): Promise<void> {
  await ctx.sql.begin(async (tx) => {
    await lockDistrictWrites(tx, district);
    await tx`DELETE FROM mirror_records WHERE district = ${district}`;
    await tx`DELETE FROM mirror_copies WHERE district = ${district}`;
    await tx`DELETE FROM mirror_staging WHERE district = ${district}`;
    await tx`DELETE FROM mirror_stagings WHERE district = ${district}`;
    await tx`DELETE FROM mirror_status WHERE district = ${district}`;
    await tx`DELETE FROM mirror_changes WHERE district = ${district}`;
    await tx`DELETE FROM mirror_feeds WHERE district = ${district}`;
  });
}
