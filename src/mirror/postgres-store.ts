// The mirror store every replica shares: copies in PostgreSQL (tables in postgres-schema.ts).
//
// Client: postgres.js (`postgres` 3.4), chosen over `pg` for speed (pipelining, and prepared
// statements by default), zero dependencies, and active maintenance.
//
// Parts: postgres-schema.ts (tables, migration), postgres-staging.ts (full pulls, publish),
// postgres-copies.ts (deltas, lookups, drop), postgres-query.ts with postgres-sql.ts (queries
// pushed down to SQL, JavaScript finishing what SQL cannot say exactly), postgres-lock.ts.
import postgres, { type Options, type Sql } from 'postgres';
import { StartupError } from '../core/errors.js';
import { agreed, applyDelta, copyByVersion, currentCopy, dropDistrict, readStatus, writeStatus } from './postgres-copies.js';
import { changedSince, changeLog, readChanges } from './postgres-changes.js';
import type { PgContext } from './postgres-db.js';
import { withPullLock } from './postgres-lock.js';
import { PageMemo } from './postgres-page.js';
import { getRecord, runQuery } from './postgres-query.js';
import { migrate } from './postgres-schema.js';
import { stageCopy } from './postgres-staging.js';
import { retentionOf, type Retention } from './retention.js';
import type { MirrorStore } from './types.js';

export interface PostgresMirrorStoreOptions {
  /** postgres:// or postgresql:// URL of the database (the tables are made in its default schema). */
  url: string;
  /** Connections for queries and writes (a pull lock takes one more of its own). Default 10. */
  poolSize?: number;
  /** The epoch is the database's own (made once, stored): it cannot be chosen. */
  epoch?: never;
  logger?: { warn(o: object): void };
  now?: () => number;
  /** How long copies no longer current and observed changes are kept (retention.ts defaults). */
  retention?: Partial<Retention>;
  /** Bound on every statement, so a hung database cannot hang a request forever. Default 30 s. */
  statementTimeoutMs?: number;
}

function fail(message: string): never {
  throw new TypeError(`createPostgresMirrorStore: ${message}`);
}

interface Checked {
  url: string;
  password: string;
  poolSize: number;
  statementTimeoutMs: number;
}

function check(options: PostgresMirrorStoreOptions): Checked {
  if (!options || typeof options !== 'object') fail('options are required');
  const { url } = options;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') || !parsed.hostname) {
    fail('options.url must be a postgres:// or postgresql:// URL with a host');
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) fail('options.poolSize must be an integer from 1 to 100');
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 1) fail('options.statementTimeoutMs must be a positive integer (ms)');
  if (options.now !== undefined && typeof options.now !== 'function') fail('options.now must be a function');
  let password = '';
  try {
    password = decodeURIComponent(parsed.password);
  } catch {
    password = parsed.password;
  }
  return { url, poolSize, statementTimeoutMs, password };
}

/** host:port of the store (5432 when the URL gives none). */
function storeAddress(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}`;
}

function scrub(text: string, c: Checked): string {
  let out = text;
  for (const secret of new Set([c.password, encodeURIComponent(c.password)])) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}

function connectOptions(c: Checked, max: number, label: string, onclose?: () => void): Options<Record<string, never>> {
  return {
    max,
    connect_timeout: 10,
    // The pool recycles idle connections; a lock's connection lives exactly as long as its pull.
    ...(onclose ? { idle_timeout: 0, max_lifetime: 0, fetch_types: false } : { idle_timeout: 60 }),
    onnotice: () => undefined,
    ...(onclose ? { onclose } : {}),
    // jit off: the mirror's queries are short, and a filter over a whole collection was planned
    // expensive enough to compile (measured: 369 ms of JIT in a 500 ms query).
    connection: { application_name: `oneroster-gateway ${label}`, statement_timeout: c.statementTimeoutMs, jit: 'off' },
  };
}

export type PostgresMirrorStore = MirrorStore & {
  /** Queries answered wholly by SQL, and those JavaScript finished (tests prove the pushdown with it). */
  queryPaths(): { pushed: number; js: number };
};

export async function createPostgresMirrorStore(options: PostgresMirrorStoreOptions): Promise<PostgresMirrorStore> {
  const c = check(options);
  const retention = retentionOf(options.retention);
  const sql: Sql = postgres(c.url, connectOptions(c, c.poolSize, 'mirror'));
  let ctx: PgContext;
  try {
    const schema = await migrate(sql);
    ctx = { sql, epoch: schema.epoch, icu: schema.icu, now: options.now ?? Date.now, logger: options.logger, memo: new PageMemo(), retention };
    if (!schema.icu) options.logger?.warn({ msg: "mirror: PostgreSQL has no ICU collation 'und-x-icu'; filters with ~ are finished in JavaScript" });
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => undefined);
    const e = err as { message?: unknown; code?: unknown };
    const why = scrub(String(e?.message ?? err), c);
    // A StartupError, so `serve` prints it: the operator's own setting (host and port only:
    // no user, no password, no URL) and the server's scrubbed reason.
    throw new StartupError(`mirror.store: cannot start the PostgreSQL mirror store at ${storeAddress(c.url)}: ${why}${typeof e?.code === 'string' ? ` (${e.code})` : ''}`, typeof e?.code === 'string' ? e.code : undefined);
  }
  const paths = { pushed: 0, js: 0 };
  ctx.onQueryPath = (path) => paths[path]++;
  const lock = { connect: (onClose: () => void) => postgres(c.url, connectOptions(c, 1, 'mirror pull lock', onClose)), logger: options.logger };
  return {
    kind: 'postgres',
    queryPaths: () => ({ ...paths }),
    withPullLock: (district, fn) => withPullLock(lock, district, fn),
    stage: (district) => stageCopy(ctx, district),
    current: (district) => currentCopy(ctx, district),
    copy: (district, version) => copyByVersion(ctx, district, version),
    query: (copy, q) => runQuery(ctx, copy, q),
    get: (copy, collection, sourcedId) => getRecord(ctx, copy, collection, sourcedId),
    apply: (district, changes, at) => applyDelta(ctx, district, changes, at),
    agreed: (district, at) => agreed(ctx, district, at),
    readStatus: (district) => readStatus(ctx, district),
    writeStatus: (district, json) => writeStatus(ctx, district, json),
    drop: (district) => dropDistrict(ctx, district),
    changes: (district, q) => readChanges(ctx, district, q),
    changedSince: (copy, collection, since, inclusive, max) => changedSince(ctx, copy, collection, since, inclusive, max),
    changeLog: (district) => changeLog(ctx.sql, district),
    ping: pinger(sql),
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * SELECT 1 within the bound (a hung database must not hang a scrape); one probe at a time, however
 * often asked. A SELECT 1 that outlives its bound is kept: until it settles, each scrape answers
 * false at once rather than queueing one more query on a pool that is already stuck.
 */
function pinger(sql: Sql): (timeoutMs: number) => Promise<boolean> {
  let probing: Promise<boolean> | undefined;
  let query: Promise<boolean> | undefined;
  return (timeoutMs) => {
    if (probing) return probing;
    if (query) return Promise.resolve(false);
    const pending = (query = Promise.resolve(sql`SELECT 1`).then(
      () => true,
      () => false,
    ));
    void pending.finally(() => {
      if (query === pending) query = undefined;
    });
    return (probing = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      void pending.then((up) => {
        clearTimeout(timer);
        resolve(up);
      });
    }).finally(() => (probing = undefined)));
  };
}
