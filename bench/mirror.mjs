// The whole-district mirror (issue 10), measured on one district behind a slow server:
//  1. time to the first published copy against its floor (the pull's upstream requests × the
//     district's latency), and those requests;
//  2. never-seen queries on the copy (random offsets, filters, relationship routes, a 1.2 path
//     on the 1.1 district, limit=1000 and limit=5000), one at a time: p50 / p99 per kind;
//  3. three clients pulling users and enrollments in full at once with limits 100, 200 and
//     5000: requests reaching the district while they do (must be 0);
//  4. a full pull (Link rel="next", JSON.parse per page) from the copy against the same pull
//     directly from the district, a bare @hono/node-server answering the same pages from
//     memory, and JSON.parse of the same bodies with no HTTP (the client's floor);
//  5. memory: the gateway's RSS and heap after publishing against a gateway with mirroring off,
//     the copy's JSON weight (what mirror.maxMemoryBytes counts), and on PostgreSQL the
//     mirror's table and index sizes.
// For the memory store, and for PostgreSQL when --postgres is given. Sandbox, gateways and
// PostgreSQL run in their own processes; the clients run here. The district is generated
// once and shared, in its own process (bench/sandbox-server.mjs).
//   npm run build && node bench/mirror.mjs [--postgres spawn | --postgres postgres://...]
//   options: [--users 50000] [--latency 100] [--queries 200] [--big-queries 50] [--limit 1000]
//            [--rounds 3] [--pg-rounds 1] [--collections users,enrollments] [--recent 3000]
//            [--max-memory-mb 1024] [--kind-seconds 60] [--concurrent-seconds 120]
//            [--early-queries 10] [--skip-direct] [--skip-memory] [--seed 1] [--profile]
// --queries: distinct URLs per query kind (--big-queries for limit=5000), each kind cut after
// --kind-seconds; the three clients are cut after --concurrent-seconds (a cut client is
// reported as such, with its rate). --postgres spawn starts a throwaway PostgreSQL 15
// (bench/mirror-postgres.mjs); a URL is used as given, in a fresh database made for the run
// when the role may create one. On PostgreSQL a first sample of --early-queries per kind runs
// right after the publish, before autovacuum has analyzed the new rows; the measure waits for it.
// --profile, once everything is measured, profiles the gateway (V8 sampler, over the inspector)
// during more of each query kind over its goal, one full pull from the copy, and one refresh
// pull (POST /admin/districts/{id}/mirror/refresh), and prints their top self-time functions.
import { request } from 'undici';
import { inspectedGatewayProcess, procMemory, selfTimeByOwner, staticPagesServer, topSelfTime } from './diagnostics.mjs';
import { analyzeState, freshDatabase, mirrorTableSizes, postgresCpuMs, spawnPostgres, waitForAutoanalyze } from './mirror-postgres.mjs';
import { copyJsonWeight, parseFloor, pullBodies, pullUntil } from './mirror-pulls.mjs';
import { queryKinds, runKind } from './mirror-queries.mjs';
import { printReport } from './mirror-report.mjs';
import { BENCH_CLIENT, benchToken, cpuMs, sandboxProcess } from './processes.mjs';
import { agent, pullAll } from './sync-client.mjs';
import { opt, num, flag } from './args.mjs';


const o = {
  users: num('users', 50_000),
  latencyMs: num('latency', 100),
  queries: num('queries', 200),
  bigQueries: num('big-queries', 50),
  early: num('early-queries', 10),
  kindSeconds: num('kind-seconds', 60),
  concurrentSeconds: num('concurrent-seconds', 120),
  pgRounds: Math.max(1, num('pg-rounds', 1)),
  limit: num('limit', 1000),
  rounds: Math.max(1, num('rounds', 3)),
  collections: String(opt('collections', 'users,enrollments')).split(','),
  recent: num('recent', 3000),
  maxMemoryBytes: num('max-memory-mb', 1024) * 1024 * 1024,
  seed: num('seed', 1),
  postgres: opt('postgres', process.env.MIRROR_POSTGRES_URL),
  skipDirect: flag('skip-direct'),
  skipMemory: flag('skip-memory'),
  profile: flag('profile'),
};
const DISTRICT_TOKEN = 'bench-token';
const DISTRICT = 'd';
const CONCURRENT_LIMITS = [100, 200, 5000];
const ADMIN_TOKEN = 'mirror-bench-admin-token-0123456789';
const GOAL_P99 = { memory: 50, postgres: 100 };
// The bench client (benchToken signs in as it) with every rostering scope: relationship routes
// need roster.readonly, demographics their own.
const CLIENT = { ...BENCH_CLIENT, scopes: ['roster.readonly', 'roster-core.readonly', 'roster-demographics.readonly'] };
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => (ms / 1000).toFixed(2);

function gatewayConfig(sandbox, store, mirrored) {
  return {
    auth: { tokenSecret: 'b'.repeat(40), clients: [CLIENT] },
    // No delta sync: nothing but the full pull may reach the district, so every request it sees is counted.
    cache: { store: 'memory', deltaSync: { enabled: false } },
    metrics: { enabled: true },
    admin: { token: ADMIN_TOKEN },
    mirror: { store, maxMemoryBytes: o.maxMemoryBytes },
    districts: [
      {
        id: DISTRICT,
        version: 'v1p1',
        baseUrl: sandbox.baseUrl,
        auth: { type: 'bearer', token: DISTRICT_TOKEN },
        upstream: { timeoutMs: 120_000 },
        mirror: mirrored,
      },
    ],
  };
}

async function districtEntry(gw, headers) {
  const res = await fetch(`${gw.url}/districts`, { headers });
  return (await res.json()).districts.find((d) => d.id === DISTRICT);
}

async function upstreamRequestsMetric(gw) {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('oneroster_gateway_upstream_requests_total{') && l.includes(`district="${DISTRICT}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Every page of a list straight from the sandbox (limit 10000): what the queries need to know, read before any gateway runs. */
async function sandboxList(sandbox, path, fields) {
  const out = [];
  for (let offset = 0; ; offset += 10_000) {
    const res = await fetch(`${sandbox.baseUrl}/v1p1/${path}?limit=10000&offset=${offset}${fields ? `&fields=${fields}` : ''}`, { headers: { authorization: `Bearer ${DISTRICT_TOKEN}` } });
    const body = await res.json();
    const list = Object.values(body).find(Array.isArray);
    out.push(...list);
    if (list.length < 10_000) return out;
  }
}

async function districtFacts(sandbox) {
  const users = await sandboxList(sandbox, 'users', 'sourcedId,role,dateLastModified');
  const dates = users.map((u) => u.dateLastModified).sort().reverse();
  const date = dates[Math.min(o.recent, dates.length - 1)];
  const classes = await sandboxList(sandbox, 'classes', 'sourcedId');
  const schools = await sandboxList(sandbox, 'schools', 'sourcedId');
  const perSchool = [];
  for (const school of schools) {
    const res = await fetch(`${sandbox.baseUrl}/v1p1/schools/${encodeURIComponent(school.sourcedId)}/enrollments?limit=1`, { headers: { authorization: `Bearer ${DISTRICT_TOKEN}` } });
    await res.arrayBuffer();
    perSchool.push(Number(res.headers.get('x-total-count')));
  }
  return {
    users: users.length,
    userIds: users.map((u) => u.sourcedId),
    teachers: users.filter((u) => u.role === 'teacher').length,
    recent: { date, count: dates.filter((d) => d > date).length },
    classIds: classes.map((c) => c.sourcedId),
    schoolIds: schools.map((school) => school.sourcedId),
    enrollmentsPerSchool: Math.min(...perSchool),
  };
}

/** The gateway's heap and RSS after a full GC, with RSS peak so far. */
async function settledMemory(gw) {
  await gw.inspector.collectGarbage();
  await sleep(200);
  await gw.inspector.collectGarbage();
  const usage = await gw.inspector.memoryUsage();
  return { ...procMemory(gw.pid), heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
}

/** A gateway with mirroring off on the same district: the memory a mirror adds is measured against it. */
async function baselineMemory(sandbox) {
  const gw = await inspectedGatewayProcess(gatewayConfig(sandbox, 'memory', false));
  const token = await benchToken(gw.url);
  await fetch(`${gw.url}/districts/${DISTRICT}/ims/oneroster/v1p1/orgs?limit=1`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
  await sleep(1000);
  const m = await settledMemory(gw);
  await gw.stop();
  return m;
}

async function waitForCopy(gw, headers, timeoutMs = 20 * 60_000) {
  const t0 = performance.now();
  for (;;) {
    const entry = await districtEntry(gw, headers);
    if (entry?.mirror.state === 'ready' || entry?.mirror.state === 'failed') return entry;
    if (performance.now() - t0 > timeoutMs) throw new Error(`no copy after ${timeoutMs / 1000} s: ${JSON.stringify(entry?.mirror)}`);
    await sleep(100);
  }
}

async function runQueries(label, gw, headers, kinds, pg, maxSeconds) {
  const base = `${gw.url}/districts/${DISTRICT}`;
  const out = [];
  for (const kind of kinds) {
    const c0 = { gw: gw.cpuMs(), pg: postgresCpuMs(pg?.pid) };
    const q = await runKind(base, headers, kind, maxSeconds);
    q.cpuMsPerQuery = { gateway: (gw.cpuMs() - c0.gw) / q.n, postgres: (postgresCpuMs(pg?.pid) - c0.pg) / q.n };
    out.push(q);
    log(`[${label}] ${q.kind}: ${q.n} queries, p50 ${q.p50.toFixed(1)} ms, p99 ${q.p99.toFixed(1)} ms${q.errors.length ? `, errors: ${q.errors.join(' | ')}` : ''}`);
  }
  return out;
}

async function measureStore(label, store, sandbox, facts, pg, baselines) {
  log(`\n[${label}] starting a mirrored gateway`);
  const r = { label };
  await sandbox.resetHits();
  const cpu0 = { sandbox: cpuMs(sandbox.pid), pg: postgresCpuMs(pg?.pid) };
  const t0 = performance.now();
  const gw = await inspectedGatewayProcess(gatewayConfig(sandbox, store, true));
  const headers = { authorization: `Bearer ${await benchToken(gw.url)}` };
  const entry = await waitForCopy(gw, headers);
  r.wallToPublishSeconds = (performance.now() - t0) / 1000;
  r.mirror = entry.mirror;
  const last = entry.mirror.lastFullPull;
  r.pull = {
    durationMs: last?.durationMs,
    upstreamRequests: last?.upstreamRequests,
    // publishedAt is taken as the publish starts; finishedAt once it is done.
    publishMs: last && entry.mirror.publishedAt ? Date.parse(last.finishedAt) - Date.parse(entry.mirror.publishedAt) : undefined,
    sandboxHits: await sandbox.hits(),
    cpuMs: { gateway: gw.cpuMs(), sandbox: cpuMs(sandbox.pid) - cpu0.sandbox, postgres: postgresCpuMs(pg?.pid) - cpu0.pg },
  };
  r.pull.floorMs = r.pull.upstreamRequests * o.latencyMs;
  log(`[${label}] ${entry.mirror.state} after ${r.wallToPublishSeconds.toFixed(1)} s (pull ${r.pull.durationMs} ms, ${r.pull.upstreamRequests} upstream requests)`);
  if (entry.mirror.state !== 'ready') {
    await gw.stop();
    return r;
  }
  r.memoryAfterPublish = await settledMemory(gw);

  // 2. Never-seen queries. PostgreSQL has no statistics on the new rows until autovacuum
  // analyzes them (within about a minute): a first sample before, the measure after.
  await request(`${gw.url}/districts/${DISTRICT}/ims/oneroster/v1p1/orgs?limit=1`, { headers, dispatcher: agent }).then((res) => res.body.text());
  const kinds = queryKinds(facts, o.queries + o.early, o.bigQueries + o.early, o.seed);
  if (pg) {
    const before = await analyzeState(pg.url);
    r.early = { analyzedBefore: before, queries: await runQueries(`${label}, before autoanalyze`, gw, headers, kinds.map((k) => ({ ...k, urls: k.urls.slice(0, o.early) })), pg, o.kindSeconds) };
    r.early.analyzedAfter = await analyzeState(pg.url);
    r.analyze = await waitForAutoanalyze(pg.url, 180_000);
    log(`[${label}] mirror_records analyzed: ${JSON.stringify(r.analyze)}`);
  }
  r.queries = await runQueries(label, gw, headers, kinds.map((k) => ({ ...k, urls: k.urls.slice(o.early) })), pg, o.kindSeconds);

  // 3. Three clients at once, each its own page size (bounded in time: a slow store is cut, and says so).
  await sandbox.resetHits();
  const metric0 = await upstreamRequestsMetric(gw);
  const root = `${gw.url}/districts/${DISTRICT}/ims/oneroster/v1p1`;
  const t3 = performance.now();
  const deadline = t3 + o.concurrentSeconds * 1000;
  const clients = await Promise.all(CONCURRENT_LIMITS.map((limit) => pullUntil(root, o.collections, headers, limit, deadline)));
  r.concurrent = { seconds: (performance.now() - t3) / 1000, clients, sandboxHits: await sandbox.hits(), upstreamMetric: (await upstreamRequestsMetric(gw)) - metric0 };
  log(`[${label}] three clients: ${r.concurrent.seconds.toFixed(1)} s, ${clients.map((c) => `${c.pages} pages${c.complete ? '' : ' (cut)'}`).join(', ')}, district requests ${r.concurrent.sandboxHits}`);

  // 4. A full pull from the copy; once per run, a bare server answering the same pages and the parse floor.
  const runs = [];
  for (let i = 0; i < (pg ? o.pgRounds : o.rounds); i++) {
    const c0 = gw.cpuMs();
    const p = await pullAll(root, o.collections, headers, { limit: o.limit });
    p.serverCpuMs = gw.cpuMs() - c0;
    runs.push(p);
    log(`[${label}] full pull from the copy, round ${i + 1}: ${p.pages} pages in ${p.seconds.toFixed(2)} s`);
  }
  r.fullPull = { runs, median: [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)] };
  if (!baselines.bare) {
    const starts = o.collections.map((k) => `/districts/${DISTRICT}/ims/oneroster/v1p1/${k}?limit=${o.limit}&offset=0`);
    const bare = await staticPagesServer({ origin: gw.url, token: headers.authorization.slice(7), starts });
    const bareRuns = [];
    for (let i = 0; i < o.rounds; i++) bareRuns.push(await pullAll(`${bare.url}/districts/${DISTRICT}/ims/oneroster/v1p1`, o.collections, {}, { limit: o.limit }));
    bare.stop();
    baselines.bare = { ...[...bareRuns].sort((a, b) => a.seconds - b.seconds)[Math.floor(bareRuns.length / 2)], from: label, rounds: bareRuns.length };
    baselines.parseFloorSeconds = parseFloor(await pullBodies(root, headers, o.collections, o.limit));
  }

  // 5. Memory and size.
  r.memoryAfterAll = await settledMemory(gw);
  if (!pg) r.jsonWeight = await copyJsonWeight(`${gw.url}/districts/${DISTRICT}/ims/oneroster`, headers, entry.mirror.counts);
  if (pg) r.sizes = await mirrorTableSizes(pg.url, DISTRICT);
  r.cacheCounts = (await districtEntry(gw, headers)).cache;
  if (o.profile) r.profiles = await profiles(label, gw, headers, r, facts, pg);
  await gw.stop();
  return r;
}

/** The gateway's self time while `fn` runs (V8 sampling profiler over the inspector). */
async function profiled(gw, fn) {
  let value;
  const p = await gw.inspector.profile(async () => {
    value = await fn();
  });
  return { value, top: topSelfTime(p, 12), owners: selfTimeByOwner(p).slice(0, 8) };
}

/** --profile, after everything is measured: the kinds over the goal, a full pull from the copy, one refresh pull. */
async function profiles(label, gw, headers, r, facts, pg) {
  const out = [];
  const goal = GOAL_P99[label];
  const slow = r.queries.filter((q) => !q.big && q.p99 >= goal).sort((a, b) => b.p99 - a.p99).slice(0, 3);
  const fresh = queryKinds(facts, 30, 30, o.seed + 1);
  for (const q of slow) {
    const kind = fresh.find((k) => k.kind === q.kind);
    const p = await profiled(gw, () => runKind(`${gw.url}/districts/${DISTRICT}`, headers, kind));
    out.push({ what: `${kind.urls.length} more ${q.kind}`, ...p, value: undefined });
  }
  const root = `${gw.url}/districts/${DISTRICT}/ims/oneroster/v1p1`;
  // On PostgreSQL users only: the whole pull takes minutes there and the profile says the same.
  const keys = pg ? ['users'] : o.collections;
  const pull = await profiled(gw, () => pullAll(root, keys, headers, { limit: o.limit }));
  out.push({ what: `one full pull of ${keys.join(' + ')} from the copy (${pull.value.seconds.toFixed(2)} s)`, ...pull, value: undefined });
  const before = (await districtEntry(gw, headers)).mirror.lastFullPull.startedAt;
  const refresh = await profiled(gw, async () => {
    await fetch(`${gw.url}/admin/districts/${DISTRICT}/mirror/refresh`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    for (;;) {
      const m = (await districtEntry(gw, headers)).mirror;
      if (!m.pulling && m.lastFullPull.startedAt !== before) return m.lastFullPull;
      await sleep(100);
    }
  });
  // The memory store keeps the copy before the current one: two copies held from here on.
  r.memoryAfterRefresh = await settledMemory(gw);
  out.push({ what: `a refresh pull with the copy in place (${secs(refresh.value.durationMs)} s, ${refresh.value.upstreamRequests} requests, ${refresh.value.outcome})`, ...refresh, value: refresh.value });
  return out;
}

// The district: generating it is part of the run, so it is timed.
const genStart = performance.now();
const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: DISTRICT_TOKEN }, users: o.users, latencyMs: o.latencyMs });
const genSeconds = (performance.now() - genStart) / 1000;
log(`sandbox: ${o.users} users generated in ${genSeconds.toFixed(1)} s`);
const facts = await districtFacts(sandbox);
log(`facts: ${facts.teachers} teachers, ${facts.classIds.length} classes, ${facts.schoolIds.length} schools, ${facts.recent.count} users after ${facts.recent.date}`);

let pg;
if (o.postgres === 'spawn') {
  const server = await spawnPostgres();
  pg = { url: server.url, pid: server.pid, origin: `spawned: ${server.settings}`, stop: server.stop };
} else if (o.postgres) {
  const fresh = await freshDatabase(o.postgres);
  pg = fresh ? { url: fresh.url, origin: 'given URL, fresh database', stop: fresh.drop } : { url: o.postgres, origin: 'given URL (no CREATE DATABASE: its other data counts in the sizes)', stop: () => undefined };
}

const results = { options: { ...o, postgres: pg?.origin }, genSeconds, sandboxRss: procMemory(sandbox.pid).rss, facts: { ...facts, userIds: facts.userIds.length, classIds: facts.classIds.length, schoolIds: facts.schoolIds.length } };
results.baseline = await baselineMemory(sandbox);
if (!o.skipDirect) {
  log('\ndirect pull from the sandbox');
  results.direct = await pullAll(`${sandbox.baseUrl}/v1p1`, o.collections, { authorization: `Bearer ${DISTRICT_TOKEN}` }, { limit: o.limit });
  log(`direct: ${results.direct.pages} pages in ${results.direct.seconds.toFixed(1)} s`);
}
results.stores = [];
const baselines = {};
if (!o.skipMemory) results.stores.push(await measureStore('memory', 'memory', sandbox, facts, undefined, baselines));
if (pg) results.stores.push(await measureStore('postgres', pg.url, sandbox, facts, pg, baselines));
Object.assign(results, baselines);
sandbox.stop();
await pg?.stop();

printReport(results, { concurrentLimits: CONCURRENT_LIMITS });
process.exit(0);
