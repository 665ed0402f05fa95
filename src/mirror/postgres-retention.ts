// What the PostgreSQL mirror forgets after each publish and delta, in the same transaction:
// copies past the snapshot retention, the record versions only they could see, and changes past
// the change retention (retention.ts).
import type { TransactionSql } from 'postgres';
import { pruneChanges } from './postgres-changes.js';
import type { PgContext } from './postgres-db.js';

/**
 * Forgets what the retention no longer keeps (retention.ts): copies superseded longer ago than
 * the snapshot retention (and record versions only they could see), and changes older than the
 * change retention.
 */
export async function prune(tx: TransactionSql, ctx: Pick<PgContext, 'now' | 'retention'>, district: string, currentSeq: number): Promise<void> {
  const t = ctx.now();
  // A copy is kept while the one after it was published less than snapshotMs ago.
  await tx`
    DELETE FROM mirror_copies c WHERE c.district = ${district} AND c.seq < ${currentSeq}::int
      AND (SELECT min(n.published_at) FROM mirror_copies n WHERE n.district = c.district AND n.seq > c.seq) <= ${t - ctx.retention.snapshotMs}::float8`;
  const [oldest] = await tx<Array<{ seq: number }>>`SELECT min(seq)::int AS seq FROM mirror_copies WHERE district = ${district}`;
  await tx`DELETE FROM mirror_records WHERE district = ${district} AND valid_to IS NOT NULL AND valid_to <= ${oldest?.seq ?? currentSeq}::int`;
  await pruneChanges(tx, district, t - ctx.retention.changeMs);
}

