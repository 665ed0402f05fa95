// The PostgreSQL mirror's tables, created and migrated at start-up. Several replicas may start
// at once: the whole migration runs in one transaction under an advisory lock, so exactly one
// of them applies each step and the others find it done.
//
// A record row holds one version of one record, valid over a range of copy numbers
// [valid_from, valid_to) (valid_to NULL while current): reading "as of" copy n is
// `valid_from <= n AND (valid_to IS NULL OR valid_to > n)`, and what changed between two copies
// is the rows whose valid_from or valid_to falls between them (issue 16's feed).
import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';

/** Our advisory-lock namespaces (the first key of the two-int form): "orgw" and neighbours. */
export const LOCK_NS_MIGRATE = 0x6f726777;
export const LOCK_NS_PULL = LOCK_NS_MIGRATE + 1;
export const LOCK_NS_WRITE = LOCK_NS_MIGRATE + 2;

const REF_FIELDS = ['class', 'user', 'school', 'course'];

/** Indexes for the relationship routes' lookups (a class's enrollments, a user's, a school's...). */
const REF_INDEXES = REF_FIELDS.map(
  (f) => `CREATE INDEX mirror_records_${f}_ref ON mirror_records (district, collection, ((doc -> '${f}' ->> 'sourcedId'))) WHERE valid_to IS NULL`,
);

const V1: readonly string[] = [
  `CREATE TABLE mirror_meta (key text PRIMARY KEY, value text NOT NULL)`,
  // The last copy number per district. Not forgotten by drop: a version string stays unique for the
  // database's life even when a district is removed and added again.
  `CREATE TABLE mirror_sequences (district text PRIMARY KEY, last_seq integer NOT NULL)`,
  `CREATE TABLE mirror_copies (
     district text NOT NULL,
     seq integer NOT NULL,
     records_version text NOT NULL,
     published_at double precision NOT NULL,
     agreed_at double precision NOT NULL,
     counts jsonb NOT NULL,
     PRIMARY KEY (district, seq))`,
  `CREATE TABLE mirror_records (
     district text NOT NULL,
     collection text NOT NULL,
     sourced_id text COLLATE "C" NOT NULL,
     valid_from integer NOT NULL,
     valid_to integer,
     hash uuid NOT NULL,
     flags smallint NOT NULL DEFAULT 0,
     doc jsonb NOT NULL,
     PRIMARY KEY (district, collection, sourced_id, valid_from),
     CHECK (valid_to IS NULL OR valid_to > valid_from))`,
  `CREATE UNIQUE INDEX mirror_records_current ON mirror_records (district, collection, sourced_id) WHERE valid_to IS NULL`,
  `CREATE INDEX mirror_records_closed ON mirror_records (district, valid_to, collection) WHERE valid_to IS NOT NULL`,
  `CREATE INDEX mirror_records_flagged ON mirror_records (district, collection) WHERE flags <> 0`,
  ...REF_INDEXES,
  `CREATE INDEX mirror_records_doc ON mirror_records USING gin (doc jsonb_path_ops) WHERE valid_to IS NULL`,
  // A dead puller's rows are garbage, never data: unlogged (a server crash empties it) is enough.
  `CREATE UNLOGGED TABLE mirror_staging (
     district text NOT NULL,
     token uuid NOT NULL,
     collection text NOT NULL,
     sourced_id text COLLATE "C" NOT NULL,
     hash uuid NOT NULL,
     flags smallint NOT NULL,
     doc jsonb NOT NULL,
     PRIMARY KEY (district, token, collection, sourced_id))`,
  `CREATE TABLE mirror_stagings (district text PRIMARY KEY, token uuid NOT NULL, started_at double precision NOT NULL)`,
  `CREATE TABLE mirror_status (district text PRIMARY KEY, status text NOT NULL, updated_at double precision NOT NULL)`,
];

/**
 * v2: the fields the relationship routes join and filter on get columns of their own, generated
 * from doc (postgres-sql.ts FIELD_COLUMNS), and the indexes on them end in sourced_id and hold
 * what a join reads: a class's students come from the class index alone (no document read),
 * and a school's enrollments at any offset are read in sourcedId order instead of sorted.
 * FLAG_REF_SHAPE (8) also marks, from now on, a record whose columns could not say what its
 * fields hold (a bare-string GUIDRef, a non-string sourcedId, role or status).
 */
const V2: readonly string[] = [
  ...REF_FIELDS.map((f) => `DROP INDEX mirror_records_${f}_ref`),
  `ALTER TABLE mirror_records
     ${[
       ...REF_FIELDS.map((f) => `ADD COLUMN ref_${f} text COLLATE "C" GENERATED ALWAYS AS (doc -> '${f}' ->> 'sourcedId') STORED`),
       `ADD COLUMN f_role text COLLATE "C" GENERATED ALWAYS AS (doc ->> 'role') STORED`,
       `ADD COLUMN f_status text COLLATE "C" GENERATED ALWAYS AS (doc ->> 'status') STORED`,
     ].join(',\n     ')}`,
  `CREATE INDEX mirror_records_class_ref ON mirror_records (district, collection, ref_class, sourced_id)
     INCLUDE (ref_user, f_role, f_status, valid_from) WHERE valid_to IS NULL`,
  `CREATE INDEX mirror_records_user_ref ON mirror_records (district, collection, ref_user, sourced_id)
     INCLUDE (ref_class, f_role, f_status, valid_from) WHERE valid_to IS NULL`,
  `CREATE INDEX mirror_records_school_ref ON mirror_records (district, collection, ref_school, sourced_id) WHERE valid_to IS NULL`,
  `CREATE INDEX mirror_records_course_ref ON mirror_records (district, collection, ref_course, sourced_id) WHERE valid_to IS NULL`,
  ...['mirror_records', 'mirror_staging'].map(
    (t) => `UPDATE ${t} SET flags = flags | 8 WHERE (flags & 8) = 0 AND (${[
      ...REF_FIELDS.map((f) => `jsonb_typeof(doc -> '${f}') = 'string' OR jsonb_typeof(doc -> '${f}' -> 'sourcedId') IN ('number', 'boolean', 'object', 'array')`),
      ...['role', 'status'].map((f) => `jsonb_typeof(doc -> '${f}') IN ('number', 'boolean', 'object', 'array')`),
    ].join(' OR ')})`,
  ),
];

/**
 * v3: observed changes (issue 16): what each copy created, changed and deleted, with the
 * record as it became or was last known, in the feed's order (the primary key); and per
 * district the horizon past which every change is held, with counts for GET /districts.
 */
const V3: readonly string[] = [
  `CREATE TABLE mirror_changes (
     district text NOT NULL,
     seq integer NOT NULL,
     coll smallint NOT NULL,
     sourced_id text COLLATE "C" NOT NULL,
     op smallint NOT NULL CHECK (op BETWEEN 1 AND 3),
     at double precision NOT NULL,
     doc jsonb NOT NULL,
     PRIMARY KEY (district, seq, coll, sourced_id))`,
  `CREATE INDEX mirror_changes_at ON mirror_changes (district, at)`,
  `CREATE TABLE mirror_feeds (
     district text PRIMARY KEY,
     horizon integer NOT NULL,
     held integer NOT NULL,
     tombstones integer NOT NULL,
     last_seq integer,
     last_changed jsonb)`,
];

/** Steps in order; a step is never edited once released, only followed by another. */
export const MIGRATIONS: ReadonlyArray<{ version: number; statements: readonly string[] }> = [
  { version: 1, statements: V1 },
  { version: 2, statements: V2 },
  { version: 3, statements: V3 },
];

export interface SchemaInfo {
  /** Random per database, made once: the first half of every version string. */
  epoch: string;
  /** Whether the server has ICU's root collation (for `~` as JavaScript's toLowerCase sees it). */
  icu: boolean;
  /** Migration steps this start applied (0 when another replica or an earlier start did). */
  applied: number;
}

export async function migrate(sql: Sql): Promise<SchemaInfo> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_NS_MIGRATE}::int, 0)`;
    await tx`CREATE TABLE IF NOT EXISTS mirror_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const [row] = await tx<Array<{ v: number }>>`SELECT coalesce(max(version), 0)::int AS v FROM mirror_schema_version`;
    let applied = 0;
    for (const step of MIGRATIONS) {
      if (step.version <= (row?.v ?? 0)) continue;
      for (const statement of step.statements) await tx.unsafe(statement);
      await tx`INSERT INTO mirror_schema_version (version) VALUES (${step.version}::int)`;
      applied++;
    }
    await tx`INSERT INTO mirror_meta (key, value) VALUES ('epoch', ${randomBytes(5).toString('hex')}) ON CONFLICT (key) DO NOTHING`;
    const [meta] = await tx<Array<{ value: string }>>`SELECT value FROM mirror_meta WHERE key = 'epoch'`;
    const [icu] = await tx<Array<{ ok: boolean }>>`SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') AS ok`;
    return { epoch: meta!.value, icu: icu!.ok, applied };
  });
}
