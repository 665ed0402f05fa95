// The cache's hit path and coalescing, measured side by side in one run:
//  1. a warm 100-user page through the gateway vs a bare @hono/node-server answering the
//     same bytes from memory (autocannon, 50 connections): req/s, p50, p99 and the ratio;
//  2. fan-in: N identical cold requests at once against a slow district (one gateway; and
//     two gateways sharing Redis when redis-server is available): upstream requests made.
//   npm run build && node bench/hit-path.mjs [--connections 50] [--seconds 5] [--rounds 3] [--rate 5000] [--fanin 200]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { bareServer, freePort, gatewayProcess, sandboxProcess } from './processes.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const connections = arg('connections', 50);
const duration = arg('seconds', 5);
const fanin = arg('fanin', 200);
const PAGE = '/ims/oneroster/v1p1/users?limit=100&offset=0';
const SECRET = 'bench-secret-x';

const client = { clientId: 'bench', clientSecret: SECRET, districts: ['*'], scopes: ['roster-core.readonly'] };
const gatewayConfig = (sandbox, store = 'memory') => ({
  // As behind one load balancer: every replica builds the same links, so they share entries.
  server: { publicUrl: 'https://gateway.example.org' },
  auth: { tokenSecret: 'b'.repeat(40), clients: [client] },
  cache: { store, ttlSeconds: 3600, deltaSync: { enabled: false } },
  metrics: { enabled: process.env.BENCH_METRICS !== '0' },
  districts: [{ id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'bench-token' }, upstream: { maxConcurrency: 16 } }],
});
async function tokenFor(url) {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=bench&client_secret=${SECRET}`,
  });
  return (await res.json()).access_token;
}
async function measure(name, url, headers, server, rate) {
  const cpuBefore = server?.cpuMs() ?? Number.NaN;
  const r = await autocannon({ url, connections, duration, headers, ...(rate ? { overallRate: rate } : {}) });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  // Server CPU per request: steadier than req/s when the load generator shares the machine.
  const cpuUs = ((server?.cpuMs() ?? Number.NaN) - cpuBefore) * 1000 / r.requests.total;
  return { name, reqPerSec: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, cpuUs: Math.round(cpuUs) };
}

// 1. Hit path.
const fast = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 500 });
const gw = await gatewayProcess(gatewayConfig(fast));
const token = await tokenFor(gw.url);
const auth = { authorization: `Bearer ${token}` };
const warm = await fetch(`${gw.url}/districts/d${PAGE}`, { headers: auth });
const body = Buffer.from(await warm.arrayBuffer());
const check = await fetch(`${gw.url}/districts/d${PAGE}`, { headers: auth });
if (check.headers.get('x-cache') !== 'HIT') throw new Error(`page is not warm: ${check.headers.get('x-cache')}`);
const bodyFile = join(mkdtempSync(join(tmpdir(), 'bench-')), 'page.json');
writeFileSync(bodyFile, body);
const copied = {};
for (const h of ['content-type', 'x-total-count', 'link', 'cache-control', 'x-cache', 'age']) if (check.headers.get(h)) copied[h] = check.headers.get(h);
const bare = await bareServer(bodyFile, copied);
// Alternating rounds, medians: the two cores drift in speed over a run, and whichever
// server goes first would otherwise be favoured.
const rounds = arg('rounds', 3);
const runs = { bare: [], gateway: [] };
for (let i = 0; i < rounds; i++) {
  runs.bare.push(await measure('bare @hono/node-server, same bytes', `${bare.url}${PAGE}`, {}, bare));
  runs.gateway.push(await measure('gateway cache hit', `${gw.url}/districts/d${PAGE}`, auth, gw));
}
// Latency at a fixed rate below saturation: at saturation p99 is only queueing
// (connections / throughput), and says nothing about the time a request costs.
const rate = arg('rate', 5000);
const paced = { bare: [], gateway: [] };
for (let i = 0; i < rounds; i++) {
  paced.bare.push(await measure('bare @hono/node-server, same bytes', `${bare.url}${PAGE}`, {}, bare, rate));
  paced.gateway.push(await measure('gateway cache hit', `${gw.url}/districts/d${PAGE}`, auth, gw, rate));
}
const median = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medians = (set) => Object.values(set).map((xs) => ({ name: xs[0].name, reqPerSec: median(xs, 'reqPerSec'), p50: median(xs, 'p50'), p99: median(xs, 'p99'), cpuUs: median(xs, 'cpuUs') }));
const rows = medians(runs);
const pacedRows = medians(paced);
bare.stop();
gw.stop();
fast.stop();

// 2. Fan-in against a slow district.
async function fanIn(label, gateways, sandbox) {
  const tokens = await Promise.all(gateways.map((g) => tokenFor(g.url)));
  await sandbox.resetHits();
  const path = `/districts/d/ims/oneroster/v1p1/enrollments?limit=100&offset=${Math.floor(Math.random() * 1000)}`;
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: fanin }, (_, i) => fetch(`${gateways[i % gateways.length].url}${path}`, { headers: { authorization: `Bearer ${tokens[i % gateways.length]}` } }).then((r) => r.status)),
  );
  const ms = Math.round(performance.now() - started);
  return { label, requests: fanin, ok: results.filter((s) => s === 200).length, upstream: await sandbox.hits(), ms };
}
const slow = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 500, latencyMs: 500 });
const fanRows = [];
const one = await gatewayProcess(gatewayConfig(slow));
fanRows.push(await fanIn('1 gateway (memory store)', [one], slow));
one.stop();

let redis;
try {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await new Promise((r, j) => {
    redis.once('error', j);
    setTimeout(r, 300);
  });
  const url = `redis://127.0.0.1:${port}`;
  const a = await gatewayProcess(gatewayConfig(slow, url));
  const b = await gatewayProcess(gatewayConfig(slow, url));
  fanRows.push(await fanIn('2 gateways sharing Redis', [a, b], slow));
  a.stop();
  b.stop();
} catch (err) {
  fanRows.push({ label: `2 gateways sharing Redis: skipped (${err.code ?? err.message})` });
} finally {
  redis?.kill('SIGTERM');
}
slow.stop();

const base = rows[0].reqPerSec;
console.log(`\nHit path: GET ${PAGE} (${body.length} bytes), ${connections} connections, ${duration} s per run, median of ${rounds} alternating rounds\n`);
console.log('| server | req/s | p50 ms | p99 ms | vs bare | server CPU µs/request | vs bare (CPU) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${(r.reqPerSec / base).toFixed(2)} | ${r.cpuUs} | ${(rows[0].cpuUs / r.cpuUs).toFixed(2)} |`);
}
console.log(`\nSame page at a fixed ${rate} req/s (below saturation), ${connections} connections, median of ${rounds} rounds\n`);
console.log('| server | req/s | p50 ms | p99 ms |');
console.log('|---|---|---|---|');
for (const r of pacedRows) console.log(`| ${r.name} | ${r.reqPerSec} | ${r.p50} | ${r.p99} |`);
console.log(`\nFan-in: ${fanin} identical cold requests at once, district latency 500 ms\n`);
console.log('| setup | requests | 200s | upstream requests | wall ms |');
console.log('|---|---|---|---|---|');
for (const r of fanRows) console.log(r.requests ? `| ${r.label} | ${r.requests} | ${r.ok} | ${r.upstream} | ${r.ms} |` : `| ${r.label} | | | | |`);
process.exit(0);
