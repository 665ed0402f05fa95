// What the PostgreSQL mirror's parts share: the pool, the database's epoch, and the helpers that
// turn rows into CopyMeta and district ids into advisory-lock keys.
import { createHash } from 'node:crypto';
import type { Sql, TransactionSql } from 'postgres';
import type { Version } from '../core/oneroster/endpoints.js';
import type { PageMemo } from './postgres-page.js';
import type { Retention } from './retention.js';
import { LOCK_NS_WRITE } from './postgres-schema.js';
import type { CopyMeta } from './types.js';

export interface PgContext {
  sql: Sql;
  epoch: string;
  icu: boolean;
  now: () => number;
  logger?: { warn(o: object): void } | undefined;
  /** Told how each query was answered: wholly in SQL, or finished in JavaScript. */
  onQueryPath?: ((path: 'pushed' | 'js') => void) | undefined;
  /** What pages learned about copies (totals, bookmarks, flags): copies never change once published. */
  memo?: PageMemo | undefined;
  retention: Retention;
}

export interface CopyRow {
  district: string;
  seq: number;
  records_version: string;
  published_at: string | number;
  agreed_at: string | number;
  counts: CopyMeta['counts'];
  superseded_at?: string | number | null;
}

/** The columns a CopyRow is read with. */
export const COPY_COLUMNS = 'district, seq, records_version, published_at, agreed_at, counts';

export function copyMeta(epoch: string, row: CopyRow): CopyMeta {
  return {
    district: row.district,
    version: `${epoch}.${row.seq}`,
    seq: row.seq,
    recordsVersion: row.records_version as Version,
    publishedAt: Number(row.published_at),
    agreedAt: Number(row.agreed_at),
    counts: { ...row.counts },
    ...(row.superseded_at != null ? { supersededAt: Number(row.superseded_at) } : {}),
  };
}

/** The copy number a version string names in this database, or undefined (another store's, or not a version). */
export function seqOf(epoch: string, version: string): number | undefined {
  const m = /^([0-9a-f]+)\.([1-9][0-9]{0,9})$/.exec(version);
  if (!m || m[1] !== epoch) return undefined;
  const seq = Number(m[2]);
  return seq <= 0x7fffffff ? seq : undefined;
}

/** A district id as the second int of a two-int advisory lock key. */
export function lockKey(district: string): number {
  return createHash('sha256').update(district).digest().readInt32BE(0);
}

/** Serializes the writes of one district (publish, apply, stage, drop) across every replica, until the transaction ends. */
export async function lockDistrictWrites(tx: TransactionSql, district: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(${LOCK_NS_WRITE}::int, ${lockKey(district)}::int)`;
}

/**
 * For the rest of the transaction, joins of whole collections run as hash joins whatever the
 * statistics say (a staging just written has none yet): a nested loop or a merge join planned
 * on a side estimated at two rows that holds 100k turns a publish quadratic (measured: 45 s
 * instead of 0.5 s for 20k records). Hash joins stay linear however wrong the estimates are.
 */
export async function hashJoinsOnly(tx: TransactionSql): Promise<void> {
  await tx`SET LOCAL enable_nestloop = off`;
  await tx`SET LOCAL enable_mergejoin = off`;
}

/** The district's latest copy, locked against other writers when in a transaction that needs it. */
export async function latestCopy(tx: Sql | TransactionSql, district: string): Promise<CopyRow | undefined> {
  const rows = await tx.unsafe<CopyRow[]>(`SELECT ${COPY_COLUMNS} FROM mirror_copies WHERE district = $1 ORDER BY seq DESC LIMIT 1`, [district]);
  return rows[0];
}

/** The next copy number of the district (taken: the caller's transaction commits it or rolls it back). */
export async function nextSeq(tx: TransactionSql, district: string): Promise<number> {
  const [row] = await tx<Array<{ seq: number }>>`
    INSERT INTO mirror_sequences (district, last_seq) VALUES (${district}, 1)
    ON CONFLICT (district) DO UPDATE SET last_seq = mirror_sequences.last_seq + 1
    RETURNING last_seq AS seq`;
  return row!.seq;
}
