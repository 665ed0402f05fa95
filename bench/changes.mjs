// Correct deltas (issue 16), measured on one mirrored district of 50,000 users:
//  1. what recording changes costs a full pull: a refresh pull that finds nothing changed
//     against one that finds `--changes` users changed (half of them without a new
//     dateLastModified), `--purged` purged and as many created, both through the gateway
//     (POST /admin/districts/{id}/mirror/refresh), their lastFullPull.durationMs and the
//     gateway's CPU during each (same pull, same pages: the difference is the diff and the writes);
//  2. the change feed over those changes: every page from the cursor before them, at
//     `limit=1000` and `limit=100`, p50 / p99 per page and changes per second, one client;
//  3. a `dateLastModified>` read over the same window (tombstones and untimestamped changes
//     merged into the copy's answer), pages of 100: p50 / p99.
// For the memory store, and PostgreSQL with --postgres spawn | postgres://...
//   npm run build && node bench/changes.mjs [--postgres spawn] [--users 50000] [--changes 10000] [--purged 500]
import { request } from 'undici';
import { freshDatabase, spawnPostgres } from './mirror-postgres.mjs';
import { BENCH_CLIENT, benchToken, cpuMs, gatewayProcess, sandboxProcess } from './processes.mjs';
import { opt } from './args.mjs';

const o = { users: Number(opt('users', 50_000)), changes: Number(opt('changes', 10_000)), purged: Number(opt('purged', 500)), postgres: opt('postgres', undefined) };
const ADMIN = 'changes-bench-admin-token-0123456789';
const CLIENT = { ...BENCH_CLIENT, scopes: ['roster.readonly', 'roster-core.readonly', 'roster-demographics.readonly'] };
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];

async function run(label, sandbox, store) {
  const gw = await gatewayProcess({
    auth: { tokenSecret: 'b'.repeat(40), clients: [CLIENT] },
    cache: { store: 'memory', deltaSync: { enabled: false } },
    admin: { token: ADMIN },
    mirror: { store },
    districts: [{ id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'bench-token' }, upstream: { timeoutMs: 120_000 }, mirror: true }],
  });
  const token = await benchToken(gw.url);
  const headers = { authorization: `Bearer ${token}` };
  const mirror = async () => (await (await fetch(`${gw.url}/districts`, { headers })).json()).districts[0].mirror;
  const ready = async (after) => {
    const started = Date.now();
    for (;;) {
      const m = await mirror();
      if (m.state === 'ready' && m.version !== after && !m.pulling) return m;
      if (after && !m.pulling && m.lastFullPull && Date.parse(m.lastFullPull.finishedAt) >= started && m.lastFullPull.outcome !== 'published') {
        throw new Error(`the refresh was not published: ${m.lastFullPull.reason}`);
      }
      await sleep(200);
    }
  };
  const refresh = async () => {
    const before = await mirror();
    const cpu = cpuMs(gw.pid);
    await fetch(`${gw.url}/admin/districts/d/mirror/refresh`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    const m = await ready(before.version);
    return { m, durationMs: m.lastFullPull.durationMs, cpuMs: cpuMs(gw.pid) - cpu };
  };
  const first = await ready();
  log(`[${label}] first copy after ${(first.lastFullPull.durationMs / 1000).toFixed(1)} s`);
  const quiet = await refresh();
  log(`[${label}] refresh, nothing changed: ${quiet.durationMs} ms, gateway CPU ${quiet.cpuMs} ms`);
  const since = new Date().toISOString();
  const cursor = quiet.m.version;
  await sandbox.mutate({ quiet: o.changes / 2, update: o.changes / 2, remove: o.purged, create: o.purged });
  const busy = await refresh();
  log(`[${label}] refresh, ${o.changes + 2 * o.purged} changes: ${busy.durationMs} ms, gateway CPU ${busy.cpuMs} ms; recorded ${JSON.stringify(busy.m.changes.last.changed)}`);

  const feed = async (limit) => {
    const lat = [];
    let url = `${gw.url}/districts/d/changes?since=${cursor}&limit=${limit}`;
    let n = 0;
    const t0 = performance.now();
    while (url) {
      const t = performance.now();
      const res = await request(url, { headers });
      const body = await res.body.json();
      lat.push(performance.now() - t);
      n += body.changes.length;
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.link ?? '')?.[1];
      url = next;
    }
    const s = (performance.now() - t0) / 1000;
    return { limit, pages: lat.length, changes: n, seconds: s, perSecond: Math.round(n / s), p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
  };
  const feeds = [await feed(1000), await feed(100)];
  for (const f of feeds) log(`[${label}] feed limit=${f.limit}: ${f.changes} changes in ${f.pages} pages, ${f.seconds.toFixed(2)} s (${f.perSecond}/s), page p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms`);

  const deltaLat = [];
  let total = 0;
  for (let offset = 0; ; offset += 100) {
    const t = performance.now();
    const res = await request(`${gw.url}/districts/d/ims/oneroster/v1p1/users?limit=100&offset=${offset}&filter=${encodeURIComponent(`dateLastModified>'${since}'`)}`, { headers });
    const body = await res.body.json();
    deltaLat.push(performance.now() - t);
    total = Number(res.headers['x-total-count']);
    if (offset + 100 >= total || body.users.length === 0) break;
  }
  log(`[${label}] dateLastModified> read: ${total} records (tombstones and untimestamped included) in ${deltaLat.length} pages, p50 ${pct(deltaLat, 0.5).toFixed(1)} ms, p99 ${pct(deltaLat, 0.99).toFixed(1)} ms`);
  gw.stop();
  await sleep(300);
  return { label, first: first.lastFullPull.durationMs, quiet: { durationMs: quiet.durationMs, cpuMs: quiet.cpuMs }, busy: { durationMs: busy.durationMs, cpuMs: busy.cpuMs, recorded: busy.m.changes.last.changed }, feeds, delta: { records: total, pages: deltaLat.length, p50: pct(deltaLat, 0.5), p99: pct(deltaLat, 0.99) } };
}

const results = [];
for (const store of ['memory', ...(o.postgres ? ['postgres'] : [])]) {
  const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: o.users });
  let url = 'memory';
  let pg;
  if (store === 'postgres') {
    pg = o.postgres === 'spawn' ? await spawnPostgres() : undefined;
    url = (await freshDatabase(pg?.url ?? o.postgres)).url;
  }
  results.push(await run(store, sandbox, url));
  sandbox.stop();
  pg?.stop();
}
console.log(JSON.stringify({ bench: 'changes', options: o, results }));
process.exit(0);
