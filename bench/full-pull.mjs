// A full district pull, as a nightly roster sync does it: every page of users and of
// enrollments of one district, measured side by side in one run:
//  1. directly from a sandbox district that answers every page 100 ms late (`latencyMs`),
//  2. through the gateway with an empty cache (cold: every page goes to the district),
//  3. through the gateway again (warm: every page from the cache; the district sees nothing).
// The client (bench/sync-client.mjs) follows Link rel="next" page after page, reads each body
// whole and JSON.parse's it: the same work on all three paths. Sandbox and gateway run in
// their own processes (bench/processes.mjs); the client runs here. Baselines for the warm
// pull: a bare @hono/node-server answering copies of the same pages from memory
// (bench/static-pages-server.mjs), both servers again with the bodies read but not parsed
// (the servers' share), and JSON.parse of the same bodies with no HTTP (the client's floor).
//   npm run build && node bench/full-pull.mjs
//   options: [--users 50000] [--limit 1000] [--latency 100] [--warm-rounds 3]
//            [--collections users,enrollments] [--max-memory-mb 1024] [--concurrency N]
//            [--redis redis://host:port | --redis spawn] (or REDIS_URL=...) [--profile] [--entry other/dist/main.js]
//            [--read-ahead N] (cache.readAhead; default: the gateway's)
// --concurrency N (N > 1) adds the same three pulls with N pages in flight (offset/limit from
// X-Total-Count), cold on a fresh gateway. --profile adds one more warm pull with the V8 CPU
// profiler on the gateway (over the inspector, as --cpu-prof) and on this client, and prints
// their top self-time functions; the timed pulls are not profiled.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectedGatewayProcess, procMemory, profileSelf, selfTimeByOwner, staticPagesServer, topSelfTime } from './diagnostics.mjs';
import { BENCH_CLIENT, benchToken, freePort, gatewayProcess, sandboxProcess } from './processes.mjs';
import { request } from 'undici';
import { agent, nextLink, pullAll } from './sync-client.mjs';
import { opt, num, flag } from './args.mjs';


const users = num('users', 50_000);
const limit = num('limit', 1000);
const latencyMs = num('latency', 100);
const warmRounds = Math.max(1, num('warm-rounds', 3));
const concurrency = num('concurrency', 1);
const collections = String(opt('collections', 'users,enrollments')).split(',');
// Room for the whole district: 50,000 users and their ~264,000 enrollments come to ~175 MB of
// page bodies at limit=1000. Checked below against the cache's own accounting.
const maxMemoryBytes = num('max-memory-mb', 1024) * 1024 * 1024;
const redisOpt = opt('redis', process.env.REDIS_URL);
const profile = flag('profile');
// The gateway's cache.readAhead (blocks fetched ahead of the sequential client); absent: its default.
const readAhead = opt('read-ahead', undefined);

const DISTRICT_TOKEN = 'bench-token';
const client = BENCH_CLIENT;
let prefixes = 0;
const gatewayConfig = (sandbox, store) => ({
  // No server.publicUrl: the gateway's Link headers point at its own origin, which the client follows.
  auth: { tokenSecret: 'b'.repeat(40), clients: [client] },
  cache: {
    store,
    // A fresh key space per gateway, so a cold pull is cold on a shared Redis too.
    keyPrefix: `fullpull${process.pid}-${prefixes++}:`,
    // Nothing may go stale or expire during the run; no delta sync touching the district.
    ttlSeconds: 86_400,
    staleSeconds: 86_400,
    maxMemoryBytes,
    deltaSync: { enabled: false },
    ...(readAhead !== undefined ? { readAhead: Number(readAhead) } : {}),
  },
  districts: [
    {
      id: 'd',
      version: 'v1p1',
      baseUrl: sandbox.baseUrl,
      auth: { type: 'bearer', token: DISTRICT_TOKEN },
      // The default upstream concurrency (4), or more for --concurrency above it, so the
      // gateway does not queue what the client sends directly to the district.
      upstream: { maxConcurrency: Math.max(4, concurrency), timeoutMs: 120_000 },
    },
  ],
});

async function districtCache(gw, headers) {
  const res = await fetch(`${gw.url}/districts`, { headers });
  return (await res.json()).districts.find((d) => d.id === 'd')?.cache ?? {};
}

// Redis: a given URL, or `--redis spawn` for a throwaway redis-server on a free port.
let redisChild;
let store = 'memory';
if (redisOpt === 'spawn') {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  redisChild = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    redisChild.once('error', reject);
    setTimeout(resolve, 300);
  });
  store = `redis://127.0.0.1:${port}`;
} else if (redisOpt) store = redisOpt;
process.on('exit', () => redisChild?.kill('SIGKILL'));
const storeLabel = store === 'memory' ? 'memory store' : `Redis store (${redisOpt === 'spawn' ? 'spawned redis-server' : 'given URL'})`;

// The district: generating it is part of the run, so it is timed.
const genStart = performance.now();
const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: DISTRICT_TOKEN }, users, latencyMs });
const genSeconds = (performance.now() - genStart) / 1000;
const sandboxMem = procMemory(sandbox.pid);

const entry = opt('entry', 'dist/main.js');
const startGateway = (cfg) => (profile ? inspectedGatewayProcess(cfg) : gatewayProcess(cfg, {}, [], entry));
const direct = { root: `${sandbox.baseUrl}/v1p1`, headers: { authorization: `Bearer ${DISTRICT_TOKEN}` } };

/** One pull; `server` (gateway or bare server) gets its CPU time measured, and a gateway its upstream requests. */
async function pass(label, root, headers, server, options) {
  await sandbox.resetHits();
  const cpu0 = server?.cpuMs();
  const r = await pullAll(root, collections, headers, options);
  r.label = label;
  r.upstream = server && root.startsWith(server.url) && server.pages === undefined ? await sandbox.hits() : undefined;
  r.serverCpuMs = server ? server.cpuMs() - cpu0 : undefined;
  process.stderr.write(`${label}: ${r.pages} pages in ${r.seconds.toFixed(2)} s\n`);
  return r;
}

function medianRow(label, runs) {
  const row = { ...[...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)] };
  row.label = runs.length > 1 ? `${label} (median of ${runs.length})` : label;
  if (row.upstream !== undefined) row.upstream = Math.max(...runs.map((r) => r.upstream));
  return row;
}

async function threePaths(options, note) {
  const gw = await startGateway(gatewayConfig(sandbox, store));
  const token = await benchToken(gw.url);
  const headers = { authorization: `Bearer ${token}` };
  const root = `${gw.url}/districts/d/ims/oneroster/v1p1`;
  const rows = [];
  rows.push(await pass(`direct from the sandbox (${latencyMs} ms/page)`, direct.root, direct.headers, undefined, options));
  rows.push(await pass('gateway, cold (empty cache)', root, headers, gw, options));
  const cache = await districtCache(gw, headers);
  // The floor of a warm pull over HTTP: a bare @hono/node-server answering copies of the
  // gateway's pages (same bytes and headers) from memory. Rounds alternate between the two.
  const bare = await staticPagesServer({ origin: gw.url, token, starts: collections.map((k) => `/districts/d/ims/oneroster/v1p1/${k}?limit=${limit}&offset=0`) });
  const bareRoot = `${bare.url}/districts/d/ims/oneroster/v1p1`;
  const runs = { warm: [], bare: [], warmRaw: [], bareRaw: [] };
  for (let i = 0; i < warmRounds; i++) {
    runs.warm.push(await pass(`gateway, warm (round ${i + 1})`, root, headers, gw, options));
    runs.bare.push(await pass(`bare server, same pages (round ${i + 1})`, bareRoot, {}, bare, options));
  }
  // Not the headline: bodies read but not parsed, i.e. the servers' share of the warm time
  // (HTTP and sockets, no JSON.parse in the client).
  for (let i = 0; i < warmRounds; i++) {
    runs.warmRaw.push(await pass(`gateway, warm, not parsed (round ${i + 1})`, root, headers, gw, { ...options, parse: false }));
    runs.bareRaw.push(await pass(`bare server, not parsed (round ${i + 1})`, bareRoot, {}, bare, { ...options, parse: false }));
  }
  rows.push(medianRow('gateway, warm (every page cached)', runs.warm));
  rows.push(medianRow('bare @hono/node-server, same pages from memory', runs.bare));
  rows.push(medianRow('gateway, warm, bodies read but not parsed', runs.warmRaw));
  rows.push(medianRow('bare server, bodies read but not parsed', runs.bareRaw));
  bare.stop();
  const floorSeconds = await parseFloor(root, headers);
  let prof;
  if (profile) {
    let client;
    const gwProfile = await gw.inspector.profile(async () => {
      client = await profileSelf(() => pass('gateway, warm (profiled)', root, headers, gw, options));
    });
    prof = { gateway: gwProfile, client };
  }
  await gw.stop();
  return { rows, warm: runs.warm, cache, note, prof, floorSeconds };
}

// The client's own floor: JSON.parse of the same bodies (the gateway's warm pages) already in
// memory, with no HTTP at all; best of 3.
async function parseFloor(root, headers) {
  const bodies = [];
  for (const key of collections) {
    for (let url = `${root}/${key}?limit=${limit}&offset=0`; url; ) {
      const res = await request(url, { headers, dispatcher: agent });
      bodies.push([key, await res.body.text()]);
      url = nextLink(res.headers.link);
    }
  }
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    let n = 0;
    for (const [key, text] of bodies) n += JSON.parse(text)[key].length;
    times.push((performance.now() - t0) / 1000);
    if (n === 0) throw new Error('nothing parsed');
  }
  return Math.min(...times);
}

const sequential = await threePaths({ limit, concurrency: 1 }, 'sequential, following Link rel="next"');
const concurrent = concurrency > 1 ? await threePaths({ limit, concurrency }, `${concurrency} pages in flight (offset/limit, X-Total-Count)`) : undefined;

sandbox.stop();

const mb = (b) => (b / 1e6).toFixed(1);
const xc = (x) => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
function printTable(run) {
  const base = run.rows[0].seconds;
  console.log(`\n### ${run.note}\n`);
  console.log('| path | pages | records | MB | wall s | ms/page | vs direct | upstream requests | X-Cache | server CPU s | client CPU s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of run.rows) {
    const ratio = base / r.seconds;
    console.log(
      `| ${r.label} | ${r.pages} | ${Number.isNaN(r.records) ? '–' : r.records} | ${mb(r.bytes)} | ${r.seconds.toFixed(2)} | ${((r.seconds * 1000) / r.pages).toFixed(1)} | ` +
        `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}× | ${r.upstream ?? '–'} | ${r.upstream === undefined ? "–" : xc(r.xCache)} | ` +
        `${r.serverCpuMs === undefined ? '–' : (r.serverCpuMs / 1000).toFixed(2)} | ${(r.clientCpuMs / 1000).toFixed(2)} |`,
    );
  }
  if (run.warm.length > 1) console.log(`\nWarm rounds: ${run.warm.map((w) => `${w.seconds.toFixed(2)} s`).join(', ')}.`);
  const c = run.cache;
  console.log(`Cache after the cold pull (GET /districts): ${c.entries} entries, ${mb(c.bytes ?? 0)} MB of ${maxMemoryBytes / 1024 / 1024} MiB (cache.maxMemoryBytes).`);
}

const perCollection = Object.entries(sequential.rows[0].perCollection).map(([k, v]) => `${v.pages} ${k} pages (${v.records} records)`).join(' + ');
console.log(`\n## Full district pull: ${users} users, limit=${limit}, ${storeLabel}\n`);
console.log(`District: ${perCollection}. Sandbox answers every page ${latencyMs} ms late; generating it took ${genSeconds.toFixed(1)} s and ${mb(sandboxMem.rss)} MB RSS.`);
console.log(`Gateway: cache.ttlSeconds 86400, staleSeconds 86400, maxMemoryBytes ${maxMemoryBytes} (${maxMemoryBytes / 1024 / 1024} MiB), deltaSync off, upstream.maxConcurrency ${Math.max(4, concurrency)}; limit=${limit} is under the gateway's cap of 10000 (MAX_LIMIT) and the sandbox has no maxPageSize.`);
printTable(sequential);
if (concurrent) printTable(concurrent);
const warmRatio = sequential.rows[0].seconds / sequential.rows[2].seconds;
const { floorSeconds } = sequential;
console.log(`\nClient floor: JSON.parse of the same ${sequential.rows[2].pages} bodies (${mb(sequential.rows[2].bytes)} MB) already in memory, no HTTP: ${floorSeconds.toFixed(2)} s (best of 3), so no server can make this client's sequential pull faster than ${(sequential.rows[0].seconds / floorSeconds).toFixed(0)}× direct.`);
console.log(`\n**Goal: warm pull at least 50× faster than direct: ${warmRatio >= 50 ? 'met' : 'not met'}** (${warmRatio.toFixed(1)}×; warm upstream requests: ${sequential.rows[2].upstream}).`);

for (const run of [sequential, concurrent]) {
  if (!run?.prof) continue;
  for (const [who, p] of Object.entries(run.prof)) {
    console.log(`\n#### CPU profile of one warm pull (${run.note}): ${who === 'gateway' ? 'gateway process' : 'client (this process)'}, self time\n`);
    console.log('| function | where | ms | share |');
    console.log('|---|---|---|---|');
    for (const r of topSelfTime(p, 15)) console.log(`| ${r.fn} | ${r.where || '–'} | ${r.ms} | ${(r.share * 100).toFixed(1)}% |`);
    console.log('\n| owner | ms | share |');
    console.log('|---|---|---|');
    for (const r of selfTimeByOwner(p).slice(0, 10)) console.log(`| ${r.owner} | ${r.ms} | ${(r.share * 100).toFixed(1)}% |`);
  }
}
process.exit(0);
