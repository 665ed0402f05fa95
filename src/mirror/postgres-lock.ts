// The pull lock: a session advisory lock (our namespace, the district's hash) on a connection of
// its own, opened for the pull and closed after it. If the process dies, its connection closes
// and PostgreSQL drops the lock with it; if the connection dies, the lock is gone (logged).
//
// A connection per held lock rather than sql.reserve() from the shared pool: a pull holds it for
// minutes, so it must not take a slot that queries need (a pool of one would deadlock), and
// postgres.js 3.4 throws an uncatchable TypeError when a reserved connection is used after its
// backend died, the very case this lock must survive.
import type { Sql } from 'postgres';
import { LOCK_NS_PULL } from './postgres-schema.js';
import { lockKey } from './postgres-db.js';

export interface LockOptions {
  /** Opens the lock's own connection (max one, no idle or lifetime limit); `onClose` is called if it closes. */
  connect(onClose: () => void): Sql;
  logger?: { warn(o: object): void } | undefined;
}

/** Settles in at most `ms` (a query sent into a connection as it dies may never be answered). */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function withPullLock<T>(options: LockOptions, district: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  let holding = false;
  const sql = options.connect(() => {
    if (holding) options.logger?.warn({ msg: 'mirror pull lock lost: its PostgreSQL connection closed while the pull ran', district });
    holding = false;
  });
  const key = lockKey(district);
  try {
    const [row] = await sql<Array<{ ok: boolean }>>`SELECT pg_try_advisory_lock(${LOCK_NS_PULL}::int, ${key}::int) AS ok`;
    if (!row?.ok) return { ran: false };
    holding = true;
    try {
      return { ran: true, value: await fn() };
    } finally {
      if (holding) {
        holding = false;
        await bounded(sql`SELECT pg_advisory_unlock(${LOCK_NS_PULL}::int, ${key}::int)`, 5_000).catch(() => undefined);
      }
    }
  } finally {
    // Closing the session releases whatever it still holds.
    await bounded(sql.end({ timeout: 1 }), 5_000).catch(() => undefined);
  }
}
