// What the mirror tests know about their PostgreSQL: the shared server from
// test/setup/postgres.ts, and a database of each test file's own in it (made on demand, dropped
// after), so files never see each other's rows or schema versions.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';

/** The shared test PostgreSQL, or undefined when the run has none (the PostgreSQL suites skip). */
export function postgresUrl(): string | undefined {
  return inject('postgresUrl') || undefined;
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** A short-lived admin connection to this database (for pg_terminate_backend, pg_locks, counts). */
  admin(): postgres.Sql;
  dispose(): Promise<void>;
}

/** A fresh database `orgw_test_<random>`; dispose() drops it (and ends whatever still uses it). */
export async function freshDatabase(url: string): Promise<TestDatabase> {
  const name = `orgw_test_${randomBytes(6).toString('hex')}`;
  const server = postgres(url, { max: 1, onnotice: () => undefined });
  await server.unsafe(`CREATE DATABASE ${name}`);
  const dbUrl = withDatabase(url, name);
  const admins: postgres.Sql[] = [];
  return {
    url: dbUrl,
    name,
    admin() {
      const sql = postgres(dbUrl, { max: 2, onnotice: () => undefined });
      admins.push(sql);
      return sql;
    },
    async dispose() {
      await Promise.all(admins.splice(0).map((a) => a.end({ timeout: 1 })));
      await server.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.end({ timeout: 1 });
    },
  };
}
