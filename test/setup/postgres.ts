// Vitest globalSetup: one PostgreSQL for the whole run. POSTGRES_URL wins (CI starts one);
// otherwise a throwaway server from Debian's binaries on a free loopback port, stopped and
// removed in teardown. Without either, the PostgreSQL suites skip locally, but fail in CI,
// where a missing PostgreSQL is a bug. Each test file makes its own database in it
// (test/mirror/postgres-env.ts), so files never see each other's rows.
import type { TestProject } from 'vitest/node';
import { postgresBinDir, startPostgresServer } from '../mirror/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** '' when no PostgreSQL could be had (the PostgreSQL suites skip). */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.POSTGRES_URL) {
    project.provide('postgresUrl', process.env.POSTGRES_URL);
    return undefined;
  }
  if (!postgresBinDir()) {
    if (process.env.CI === 'true') throw new Error('CI needs PostgreSQL: set POSTGRES_URL or install postgresql');
    console.warn('PostgreSQL suites skipped: no /usr/lib/postgresql/*/bin/initdb and no POSTGRES_URL');
    project.provide('postgresUrl', '');
    return undefined;
  }
  const server = await startPostgresServer();
  project.provide('postgresUrl', server.url);
  return () => server.dispose();
}
