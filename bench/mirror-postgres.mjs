// PostgreSQL for bench/mirror.mjs: a throwaway server (`--postgres spawn`), a fresh database
// on a given server, the CPU time the server spends, and the size of the mirror's tables.
// PostgreSQL refuses to run as root, so the spawned server runs as `postgres` (runuser) in a
// temp dir it owns; fsync=off, nothing of it outlives the bench.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { childPids, cpuMs, freePort } from './processes.mjs';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

function run(cmd, args) {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.error?.message}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A PostgreSQL server on a free port; resolves with { url, pid (postmaster), settings, stop() }. */
export async function spawnPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const ids = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, ids('-u'), ids('-g'));
  const port = await freePort();
  run('initdb', ['-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run('pg_ctl', ['-D', `${dir}/data`, '-o', settings, '-l', `${dir}/log`, '-w', 'start']);
  const pid = Number(readFileSync(`${dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', `${dir}/data`, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, pid, settings: `PostgreSQL 15, initdb defaults, ${settings.replace(/-p \d+ -k \S+ /, '')}`, stop };
}

/**
 * A fresh database on a given server (so a copy left by an earlier run is not found and its
 * rows do not count in the sizes), dropped at the end; undefined when we may not create one.
 */
export async function freshDatabase(url) {
  const name = `orgw_mirror_bench_${process.pid}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch {
    await admin.end({ timeout: 1 });
    return undefined;
  }
  await admin.end({ timeout: 1 });
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const sql = postgres(url, { max: 1, onnotice: () => undefined });
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await sql.end({ timeout: 1 });
    },
  };
}

/** CPU (ms) of a postmaster and every backend: its own, its live children's, and its reaped children's (cutime + cstime). */
export function postgresCpuMs(pid) {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
    return childPids(pid).reduce((sum, c) => sum + (cpuMs(c) || 0), own);
  } catch {
    return Number.NaN;
  }
}

/** Sizes of the mirror's tables (every table named mirror_%), their indexes one by one, and the database. */
export async function mirrorTableSizes(url, district) {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const tables = await sql`
      SELECT c.relname AS name, c.relpersistence = 'u' AS unlogged,
        pg_total_relation_size(c.oid)::bigint AS total, pg_relation_size(c.oid)::bigint AS heap,
        pg_indexes_size(c.oid)::bigint AS indexes,
        (pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid))::bigint AS toast
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND c.relname LIKE 'mirror%' AND n.nspname = current_schema()
      ORDER BY pg_total_relation_size(c.oid) DESC`;
    const indexes = await sql`
      SELECT i.relname AS name, t.relname AS "table", pg_relation_size(i.oid)::bigint AS bytes
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE t.relname LIKE 'mirror%' AND n.nspname = current_schema()
      ORDER BY pg_relation_size(i.oid) DESC`;
    const [rows] = await sql`
      SELECT count(*)::int AS rows, coalesce(sum(octet_length(doc::text)), 0)::bigint AS json_bytes,
        coalesce(sum(pg_column_size(doc)), 0)::bigint AS doc_bytes
      FROM mirror_records WHERE district = ${district} AND valid_to IS NULL`;
    const [db] = await sql`SELECT pg_database_size(current_database())::bigint AS bytes, version() AS version, current_setting('jit') AS jit`;
    const num = (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' || /^\d+$/.test(String(v)) ? Number(v) : v]));
    return { tables: tables.map(num), indexes: indexes.map(num), records: num(rows), database: Number(db.bytes), version: db.version, jit: db.jit };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** When PostgreSQL last analyzed mirror_records (autovacuum or ANALYZE): the planner has no statistics before. */
export async function analyzeState(url) {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql`SELECT last_analyze, last_autoanalyze, n_live_tup::bigint AS live FROM pg_stat_user_tables WHERE relname = 'mirror_records'`;
    const at = row?.last_autoanalyze ?? row?.last_analyze;
    return { analyzed: !!at, at: at ? new Date(at).toISOString() : null, by: row?.last_autoanalyze ? 'autovacuum' : row?.last_analyze ? 'ANALYZE' : null };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Waits (polling) until autovacuum has analyzed mirror_records; gives up after `timeoutMs`. */
export async function waitForAutoanalyze(url, timeoutMs) {
  const t0 = performance.now();
  for (;;) {
    const s = await analyzeState(url);
    if (s.analyzed || performance.now() - t0 > timeoutMs) return { ...s, waitedSeconds: (performance.now() - t0) / 1000 };
    await new Promise((r) => setTimeout(r, 2000));
  }
}
