// A full pull written into the staging table under a token of its own, then published as the
// district's next copy in one transaction: a crash (of the puller or of the database) before the
// commit leaves the previous copy whole and nothing of the new one visible.
import { randomUUID } from 'node:crypto';
import type { Json } from '../core/oneroster/mapping/types.js';
import { sourcedIdOf } from './memory-collection.js';
import { COPY_COLUMNS, copyMeta, hashJoinsOnly, latestCopy, lockDistrictWrites, nextSeq, type CopyRow, type PgContext } from './postgres-db.js';
import { prune } from './postgres-retention.js';
import { keepFeed, recorded, settleChanges, startFeed } from './postgres-changes.js';
import { recordFlags } from './postgres-sql.js';
import { isMirrorCollection, type CopyMeta, type MirrorCollection, type StagedCopy } from './types.js';

/** Records per INSERT: one text parameter each, about 1.8 s per 100k rows here (TOOLCHAIN.md). */
export const BATCH = 2000;

/** `[sourcedId, flags, record]` per record, the last of a repeated sourcedId kept; records without one are not stored. */
export function batchRows(records: readonly Json[]): Array<[string, number, Json]> {
  const byId = new Map<string, [string, number, Json]>();
  for (const r of records) {
    const id = sourcedIdOf(r);
    if (id === undefined) continue;
    byId.delete(id);
    byId.set(id, [id, recordFlags(r, id), r]);
  }
  return [...byId.values()];
}

function checkCollection(collection: string): asserts collection is MirrorCollection {
  if (!isMirrorCollection(collection)) throw new TypeError(`mirror: unknown collection ${JSON.stringify(collection)}`);
}

const replaced = (district: string) => new Error(`mirror: the staging of ${district} was replaced by a newer one`);

export async function stageCopy(ctx: PgContext, district: string): Promise<StagedCopy> {
  const { sql } = ctx;
  const token = randomUUID();
  await sql.begin(async (tx) => {
    await lockDistrictWrites(tx, district);
    await tx`DELETE FROM mirror_staging WHERE district = ${district}`;
    await tx`
      INSERT INTO mirror_stagings (district, token, started_at) VALUES (${district}, ${token}::uuid, ${ctx.now()}::float8)
      ON CONFLICT (district) DO UPDATE SET token = excluded.token, started_at = excluded.started_at`;
  });
  const staged = new Set<MirrorCollection>();
  const live = async () => (await sql`SELECT 1 FROM mirror_stagings WHERE district = ${district} AND token = ${token}::uuid`).length > 0;

  return {
    async add(collection, records) {
      checkCollection(collection);
      const rows = batchRows(records);
      if (rows.length === 0 && !(await live())) throw replaced(district);
      staged.add(collection);
      for (let i = 0; i < rows.length; i += BATCH) {
        const result = await sql`
          INSERT INTO mirror_staging (district, token, collection, sourced_id, hash, flags, doc)
          SELECT ${district}, ${token}::uuid, ${collection}, e.v ->> 0, md5((e.v -> 2)::text)::uuid, (e.v ->> 1)::smallint, e.v -> 2
          FROM jsonb_array_elements(${JSON.stringify(rows.slice(i, i + BATCH))}::text::jsonb) AS e(v)
          WHERE EXISTS (SELECT 1 FROM mirror_stagings s WHERE s.district = ${district} AND s.token = ${token}::uuid)
          ON CONFLICT (district, token, collection, sourced_id) DO UPDATE SET hash = excluded.hash, flags = excluded.flags, doc = excluded.doc`;
        if (result.count === 0) throw replaced(district);
      }
    },
    async counts() {
      const rows = await sql<Array<{ collection: MirrorCollection; n: number }>>`
        SELECT collection, count(*)::int AS n FROM mirror_staging WHERE district = ${district} AND token = ${token}::uuid GROUP BY collection`;
      const counts: Partial<Record<MirrorCollection, number>> = {};
      for (const c of staged) counts[c] = 0;
      for (const r of rows) counts[r.collection] = r.n;
      return counts;
    },
    async publish(info) {
      return publish(ctx, district, token, [...staged], info);
    },
    async abort() {
      await sql.begin(async (tx) => {
        await lockDistrictWrites(tx, district);
        await tx`DELETE FROM mirror_staging WHERE district = ${district} AND token = ${token}::uuid`;
        await tx`DELETE FROM mirror_stagings WHERE district = ${district} AND token = ${token}::uuid`;
      });
    },
  };
}

async function publish(
  ctx: PgContext,
  district: string,
  token: string,
  staged: MirrorCollection[],
  info: { recordsVersion: CopyMeta['recordsVersion']; at: number },
): Promise<CopyMeta> {
  if (info.recordsVersion !== 'v1p1' && info.recordsVersion !== 'v1p2') throw new TypeError('mirror: publish needs recordsVersion v1p1 or v1p2');
  if (!Number.isFinite(info.at)) throw new TypeError('mirror: publish needs `at`, a time in ms');
  let changed = 0;
  const row = await ctx.sql.begin(async (tx) => {
    await lockDistrictWrites(tx, district);
    const mine = await tx`SELECT 1 FROM mirror_stagings WHERE district = ${district} AND token = ${token}::uuid`;
    if (mine.length === 0) throw replaced(district);
    await hashJoinsOnly(tx);
    const previous = await latestCopy(tx, district);
    const seq = await nextSeq(tx, district);
    const collections = JSON.stringify(staged);
    // The first copy is where the district's changes start; every later one records its own.
    // Copies are observed in time order whatever the replicas' clocks say: the feed's `at` never goes back.
    const at = Math.max(info.at, previous ? Number(previous.published_at) : -Infinity);
    const record = { record: previous !== undefined, district, seq, at };
    if (previous) await keepFeed(tx, district, previous.seq);
    else await startFeed(tx, district, seq);
    // Close what the pull no longer has or has changed, then add what is new or changed: a record
    // whose content hash is the same keeps its row (and its valid_from).
    const closed = await recorded(
      tx,
      tx`
      UPDATE mirror_records r SET valid_to = ${seq}::int
      WHERE r.district = ${district} AND r.valid_to IS NULL
        AND r.collection IN (SELECT jsonb_array_elements_text(${collections}::text::jsonb))
        AND NOT EXISTS (SELECT 1 FROM mirror_staging s WHERE s.district = ${district} AND s.token = ${token}::uuid
                          AND s.collection = r.collection AND s.sourced_id = r.sourced_id AND s.hash = r.hash)`,
      'closed',
      record,
    );
    const added = await recorded(
      tx,
      tx`
      INSERT INTO mirror_records (district, collection, sourced_id, valid_from, hash, flags, doc)
      SELECT s.district, s.collection, s.sourced_id, ${seq}::int, s.hash, s.flags, s.doc
      FROM mirror_staging s
      WHERE s.district = ${district} AND s.token = ${token}::uuid
        AND NOT EXISTS (SELECT 1 FROM mirror_records r WHERE r.district = s.district AND r.collection = s.collection
                          AND r.sourced_id = s.sourced_id AND r.valid_to IS NULL)`,
      'added',
      record,
    );
    const counts: CopyMeta['counts'] = { ...(previous?.counts ?? {}) };
    for (const c of staged) counts[c] = 0;
    const staging = await tx<Array<{ collection: MirrorCollection; n: number }>>`
      SELECT collection, count(*)::int AS n FROM mirror_staging WHERE district = ${district} AND token = ${token}::uuid GROUP BY collection`;
    for (const s of staging) counts[s.collection] = s.n;
    const [copy] = await tx.unsafe<CopyRow[]>(
      `INSERT INTO mirror_copies (district, seq, records_version, published_at, agreed_at, counts)
       VALUES ($1, $2::int, $3, $4::float8, $4::float8, $5::text::jsonb) RETURNING ${COPY_COLUMNS}`,
      [district, seq, info.recordsVersion, at, JSON.stringify(counts)],
    );
    await tx`DELETE FROM mirror_staging WHERE district = ${district}`;
    await tx`DELETE FROM mirror_stagings WHERE district = ${district}`;
    changed = closed.count + added.count;
    if (previous) await settleChanges(tx, district, seq);
    await prune(tx, ctx, district, seq);
    return copy!;
  });
  const copy = copyMeta(ctx.epoch, row as CopyRow);
  await settle(ctx, changed, Object.values(copy.counts).reduce((n, c) => n + (c ?? 0), 0));
  return copy;
}

/** Rows a publish must change (or a fifth of the copy) before statistics are taken again at once. */
export const ANALYZE_AFTER_ROWS = 5000;

/**
 * After the commit: the GIN index's pending list merged (rows inserted in bulk wait there, and
 * every containment query scans it: 12 ms instead of 0.3 ms over 20k rows, enough for the
 * planner to give up on the index), the new rows' pages marked all-visible, statistics for the new rows now (autovacuum takes 30-45 s
 * to notice them; plans made blind meanwhile were 25x slower), and the staging table's space back (its
 * index keeps its size after the rows are deleted) when no pull of any district is staging.
 * Best effort: a failure here costs speed, never data.
 */
async function settle(ctx: PgContext, changed: number, total: number): Promise<void> {
  try {
    if (changed >= ANALYZE_AFTER_ROWS || changed * 5 >= total) {
      await ctx.sql`SELECT gin_clean_pending_list('mirror_records_doc'::regclass)`;
      // VACUUM marks the new rows' pages all-visible, so the relationship indexes answer joins
      // from the index alone (index-only scans); index cleanup is left to autovacuum, since it
      // scans every index whole, which at a fleet's size outlasts the statement timeout.
      await ctx.sql`VACUUM (ANALYZE, INDEX_CLEANUP OFF, SKIP_LOCKED) mirror_records`;
    }
    await ctx.sql.begin(async (tx) => {
      await tx`SET LOCAL lock_timeout = '500ms'`;
      await tx`LOCK TABLE mirror_stagings IN SHARE ROW EXCLUSIVE MODE`;
      const [live] = await tx<Array<{ n: number }>>`SELECT count(*)::int AS n FROM mirror_stagings`;
      if (live?.n === 0) await tx`TRUNCATE mirror_staging`;
    });
  } catch (err) {
    ctx.logger?.warn({ msg: 'mirror: tidying up after a publish failed', err: String((err as Error)?.message ?? err) });
  }
}
