// The cache's hit path, measured side by side in one run: a warm 100-user page through
//  - the gateway (a fresh L1 hit),
//  - a bare @hono/node-server answering the same bytes and headers from memory,
//  - nginx proxy_cache (in front of that bare server) serving the same page from its cache,
//    every measured request an nginx cache HIT (checked with X-Cache-Status before, and with a
//    log of non-HITs after),
// at saturation (50 connections) with autocannon (in this process) and/or wrk (a C load
// generator, `--tool wrk|both`: autocannon may be the bottleneck against nginx), then at a fixed
// rate below saturation (autocannon). Fan-in (coalescing) is in bench/fan-in.mjs.
//   npm run build && BENCH_SERVER_CPU=1 node bench/hit-path.mjs [--connections 50] [--seconds 5]
//     [--rounds 3] [--rate 5000] [--tool autocannon|wrk|both] [--node-http] [--gzip] [--entry other/dist/main.js]
//     [--profile <dir>]
// With BENCH_SERVER_CPU=1 the servers (gateway, bare hono, nginx's master and its one worker) run
// on core 1 and the load generator on the others (taskset), as `taskset -c 0` would do.
// --node-http: also a bare node:http server (no hono) answering the same bytes: the floor for any
//   Node server on this path.
// --gzip: also the same three with `Accept-Encoding: gzip`: the gateway answers the gzip bytes it
//   stored with the page; the bare hono server and nginx (caching what its upstream sent) hold
//   those very bytes.
// The gateway runs as an operator runs it: the default log level (info: one access line per
// request), stdout a pipe this process drains, no environment tweaks (bench/processes.mjs).
// --profile <dir>: instead of the tables, run the gateway, the bare hono and a bare node:http server under
//   `node --cpu-prof` for --seconds each and print where their CPU time goes
//   (BENCH_PROF_INTERVAL_US: the sampling interval, default 1000).
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { summarizeProfile } from './cpuprofile-summary.mjs';
import { bareServer, benchGatewayConfig, benchToken, cpuPressureUs, gatewayProcess, nginxProcess, pinLoadGenerator, reapedChildrenCpuMs, sandboxProcess } from './processes.mjs';

const argv = process.argv;
const arg = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? Number(argv[i + 1]) : def;
};
const strArg = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? argv[i + 1] : def;
};
const connections = arg('connections', 50);
const duration = arg('seconds', 5);
const rounds = arg('rounds', 3);
const rate = arg('rate', 5000);
const toolArg = strArg('tool', 'autocannon');
const tools = toolArg === 'both' ? ['autocannon', 'wrk'] : [toolArg];
if (!tools.every((t) => t === 'autocannon' || t === 'wrk')) throw new Error(`--tool: autocannon, wrk or both, not ${toolArg}`);
if (tools.includes('wrk') && spawnSync('wrk', ['--version']).error) throw new Error('wrk not found (Debian: apt-get install -y wrk)');
const withNodeHttp = argv.includes('--node-http');
const withGzip = argv.includes('--gzip');
const profileDir = strArg('profile', undefined);
const PAGE = '/ims/oneroster/v1p1/users?limit=100&offset=0';
const loadCpus = pinLoadGenerator();

/** One GET read raw: status, headers, the bytes as sent. */
function rawGet(url, headers) {
  return new Promise((resolvePromise, reject) => {
    httpRequest(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode, headers: res.headers, bytes: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

/** wrk's figures: req/s, p50/p99 in ms, totals and errors. */
function parseWrk(out) {
  const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? Number.NaN);
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : Number.NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50: pct(50),
    p99: pct(99),
    total: total ? Number(total[1]) : Number.NaN,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: sock ? sock.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
  };
}

function runWrk(url, headers) {
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '--timeout', '10s'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    // Inherits this process's cores (the load generator's).
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk exited with ${code}: ${out}`))));
  });
}

/** The raw response header block (status line to blank line) of one GET, in bytes, as sent on the wire. */
function headerBytes(url, headers) {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => {
      const lines = [`GET ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        sock.destroy();
        resolve(end + 4);
      }
    });
    sock.once('error', reject);
  });
}

/** One saturation (or paced) run: req/s, p50, p99, server CPU per request, load generator CPU. */
async function measure(tool, server, url, headers, paced) {
  const serverBefore = server.cpuMs();
  const splitBefore = server.cpuSplitMs?.();
  const t0 = performance.now();
  let r;
  let loadCpu;
  if (tool === 'wrk') {
    const before = reapedChildrenCpuMs();
    r = await runWrk(url, headers);
    loadCpu = reapedChildrenCpuMs() - before;
  } else {
    const before = process.cpuUsage();
    const a = await autocannon({ url, connections, duration, headers, ...(paced ? { overallRate: paced } : {}) });
    const used = process.cpuUsage(before);
    loadCpu = (used.user + used.system) / 1000;
    r = { reqPerSec: a.requests.average, p50: a.latency.p50, p99: a.latency.p99, total: a.requests.total, non2xx: a.non2xx, errors: a.errors };
  }
  const wallMs = performance.now() - t0;
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${server.name} (${tool}): ${r.non2xx} non-2xx, ${r.errors} errors`);
  // Server CPU per request: steadier than req/s when the load generator shares the machine.
  const cpuUs = ((server.cpuMs() - serverBefore) * 1000) / r.total;
  const serverPct = Math.round(((server.cpuMs() - serverBefore) / wallMs) * 100);
  const splitAfter = server.cpuSplitMs?.();
  const sysUs = splitBefore ? ((splitAfter.sys - splitBefore.sys) * 1000) / r.total : Number.NaN;
  return { name: server.name, key: server.key, tool, total: r.total, reqPerSec: Math.round(r.reqPerSec), p50: r.p50, p99: r.p99, cpuUs, sysUs, serverPct, loadPct: Math.round((loadCpu / wallMs) * 100) };
}

// --- Servers --------------------------------------------------------------------------------
const fast = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 500 });
const profiling = profileDir !== undefined;
const profDir = profiling ? resolve(profileDir) : undefined;
if (profDir) mkdirSync(profDir, { recursive: true });
const profArgs = (name) => (profDir ? ['--cpu-prof', '--cpu-prof-interval', process.env.BENCH_PROF_INTERVAL_US ?? '1000', '--cpu-prof-dir', join(profDir, name)] : []);
const gw = await gatewayProcess(benchGatewayConfig(fast), {}, profArgs('gateway'), strArg('entry', 'dist/main.js'));
const token = await benchToken(gw.url);
const auth = { authorization: `Bearer ${token}` };
const gwUrl = `${gw.url}/districts/d${PAGE}`;
await fetch(gwUrl, { headers: auth }).then((r) => r.arrayBuffer());
// fetch would ask for br and decode it: the identity bytes, as wrk and autocannon ask.
const check = await fetch(gwUrl, { headers: { ...auth, 'accept-encoding': 'identity' } });
const body = Buffer.from(await check.arrayBuffer());
if (check.headers.get('x-cache') !== 'HIT') throw new Error(`page is not warm: ${check.headers.get('x-cache')}`);
const dir = mkdtempSync(join(tmpdir(), 'bench-'));
const bodyFile = join(dir, 'page.json');
writeFileSync(bodyFile, body);
// Every header the gateway sends but those of the connection (Node adds those itself);
// X-Request-Id as one fixed id of the same length, so both answers have the same bytes.
const HOP = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
const copied = {};
for (const [k, v] of check.headers) if (!HOP.has(k)) copied[k] = v;
const bare = await bareServer(bodyFile, copied, profArgs('bare'));

if (profiling) {
  // CPU profiles at saturation: the gateway, the bare hono server and a bare node:http server,
  // same load, same bytes. Only the samples taken under load count (not start-up or warming).
  const node = await bareServer(bodyFile, copied, profArgs('node-http'), 'bench/bare-node-server.mjs');
  const tool = tools.at(-1);
  const windows = {};
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  for (const [name, url, srv] of [['bare', `${bare.url}${PAGE}`, bare], ['node-http', `${node.url}${PAGE}`, node], ['gateway', gwUrl, gw]]) {
    const from = nowUs();
    const r = await measure(tool, { name, cpuMs: srv.cpuMs }, url, auth);
    windows[name] = { from, to: nowUs(), requests: r.total };
    console.log(`${name}: ${r.reqPerSec} req/s, ${r.cpuUs.toFixed(1)} µs CPU/request (${tool}, under the profiler)`);
  }
  for (const srv of [bare, node, gw]) srv.stop();
  await Promise.all([bare.exited, node.exited, gw.exited]);
  for (const name of ['bare', 'node-http', 'gateway']) {
    const file = readdirSync(join(profDir, name)).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1);
    console.log(`\n## ${name}: ${join(profDir, name, file)}\n`);
    console.log(summarizeProfile(JSON.parse(readFileSync(join(profDir, name, file), 'utf8')), windows[name]));
  }
  fast.stop();
  process.exit(0);
}

/** Requests the page until nginx answers it from its cache (X-Cache-Status: HIT), then clears its miss log. */
async function warmNginx(n, headers) {
  let status;
  for (let i = 0; i < 20 && status !== 'HIT'; i++) {
    const r = await fetch(`${n.url}${PAGE}`, { headers });
    await r.arrayBuffer();
    status = r.headers.get('x-cache-status');
  }
  if (status !== 'HIT') throw new Error(`nginx does not serve the page from its cache: X-Cache-Status ${status}`);
  n.clearMissLog();
}
// nginx proxy_cache in front of the bare server (which has the gateway's bytes and headers).
const nginx = await nginxProcess({ upstreams: [bare.url], cache: true, logMisses: true });
await warmNginx(nginx, { ...auth, 'accept-encoding': 'identity' });

let nodeHttp;
if (withNodeHttp) nodeHttp = await bareServer(bodyFile, copied, [], 'bench/bare-node-server.mjs');

const servers = [
  { ...bare, key: 'bare', name: 'bare @hono/node-server, same bytes', url: `${bare.url}${PAGE}` },
  { ...gw, key: 'gateway', name: 'gateway cache hit', url: gwUrl },
  { ...nginx, key: 'nginx', name: 'nginx proxy_cache hit', url: `${nginx.url}${PAGE}` },
  ...(nodeHttp ? [{ ...nodeHttp, key: 'node', name: 'bare node:http, same bytes', url: `${nodeHttp.url}${PAGE}` }] : []),
];

// --- Same bytes ------------------------------------------------------------------------------
// One request each, as the load generators send it (no Accept-Encoding): lengths and headers.
const seen = [];
for (const s of servers) {
  const r = await fetch(s.url, { headers: { ...auth, 'accept-encoding': 'identity' } });
  const b = Buffer.from(await r.arrayBuffer());
  seen.push({ name: s.name, length: Number(r.headers.get('content-length')), bodyEqual: b.equals(body), headers: Object.fromEntries(r.headers), headerBytes: await headerBytes(s.url, auth) });
}
if (new Set(seen.map((s) => s.length)).size !== 1 || seen.some((s) => s.length !== body.length || !s.bodyEqual)) {
  throw new Error(`not the same bytes: ${seen.map((s) => `${s.name} ${s.length}${s.bodyEqual ? '' : ' (body differs)'}`).join(', ')}`);
}

// --- Saturation: alternating rounds, medians --------------------------------------------------
// The two cores drift in speed over a run, and whichever server goes first would otherwise be
// favoured.
const runs = [];
const pressure0 = cpuPressureUs();
const wall0 = performance.now();
for (let i = 0; i < rounds; i++) {
  for (const tool of tools) for (const s of servers) runs.push(await measure(tool, s, s.url, auth));
}
const misses = nginx.missCount();
const pressurePct = Math.round((cpuPressureUs() - pressure0) / ((performance.now() - wall0) * 10));
// Latency at a fixed rate below saturation: at saturation p99 is only queueing.
const paced = [];
for (let i = 0; i < rounds; i++) for (const s of servers) paced.push(await measure('autocannon', s, s.url, auth, rate));

// --- Pre-compressed bytes (--gzip) -------------------------------------------------------------
const gzRuns = [];
const gzSeen = [];
let gzipped;
let gzMisses;
if (withGzip) {
  // The gateway's own gzip bytes and headers, read raw (node:http decodes nothing).
  const gzAnswer = await rawGet(gwUrl, { ...auth, 'accept-encoding': 'gzip' });
  if (gzAnswer.headers['content-encoding'] !== 'gzip' || !gunzipSync(gzAnswer.bytes).equals(body)) throw new Error('the gateway did not answer the page in gzip');
  gzipped = gzAnswer.bytes;
  const gzFile = join(dir, 'page.json.gz');
  writeFileSync(gzFile, gzipped);
  const gzHeaders = {};
  for (const [k, v] of Object.entries(gzAnswer.headers)) if (!HOP.has(k)) gzHeaders[k] = v;
  const bareGz = await bareServer(gzFile, gzHeaders);
  const nginxGz = await nginxProcess({ upstreams: [bareGz.url], cache: true, logMisses: true });
  const gz = { ...auth, 'accept-encoding': 'gzip' };
  await warmNginx(nginxGz, gz);
  const gzServers = [
    { key: 'bare', name: 'bare @hono/node-server, gzip bytes', ...bareGz, url: `${bareGz.url}${PAGE}` },
    { key: 'gateway', name: 'gateway cache hit, gzip bytes', ...gw, url: gwUrl },
    { key: 'nginx', name: 'nginx proxy_cache hit, gzip bytes', ...nginxGz, url: `${nginxGz.url}${PAGE}` },
  ];
  for (const s of gzServers) {
    const r = await fetch(s.url, { headers: gz });
    await r.arrayBuffer();
    gzSeen.push({ name: s.name, length: Number(r.headers.get('content-length')), encoding: r.headers.get('content-encoding') ?? 'identity', headerBytes: await headerBytes(s.url, gz) });
  }
  for (let i = 0; i < rounds; i++) for (const tool of tools) for (const s of gzServers) gzRuns.push(await measure(tool, s, s.url, gz));
  gzMisses = nginxGz.missCount();
  bareGz.stop();
  await nginxGz.stop();
}

await nginx.stop();
bare.stop();
gw.stop();
nodeHttp?.stop();
fast.stop();

// --- Report ----------------------------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function medians(list, tool) {
  const keys = [...new Set(list.map((r) => r.key))];
  return keys.map((key) => {
    const xs = list.filter((r) => r.key === key && r.tool === tool);
    return {
      key,
      name: xs[0].name,
      reqPerSec: median(xs.map((x) => x.reqPerSec)),
      p50: median(xs.map((x) => x.p50)),
      p99: median(xs.map((x) => x.p99)),
      cpuUs: median(xs.map((x) => x.cpuUs)),
      sysUs: median(xs.map((x) => x.sysUs)),
      loadPct: median(xs.map((x) => x.loadPct)),
      serverPct: median(xs.map((x) => x.serverPct)),
      all: xs.map((x) => x.reqPerSec),
    };
  });
}
const f1 = (x) => (Number.isFinite(x) ? (Math.round(x * 100) / 100).toString() : 'n/a');
const ratio = (a, b) => (a / b).toFixed(2);
const pin = process.env.BENCH_SERVER_CPU ? `servers pinned to core ${process.env.BENCH_SERVER_CPU}, load generator to core ${loadCpus ?? '(unpinned)'}` : 'unpinned';

function table(list, tool, title) {
  const rows = medians(list, tool);
  const by = Object.fromEntries(rows.map((r) => [r.key, r]));
  console.log(`\n${title} — ${tool}\n`);
  console.log('| server | req/s | p50 ms | p99 ms | server CPU µs/request | of which kernel | server CPU busy | load generator CPU busy | req/s per round |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.reqPerSec} | ${f1(r.p50)} | ${f1(r.p99)} | ${r.cpuUs.toFixed(1)} | ${r.sysUs.toFixed(1)} | ${r.serverPct}% | ${r.loadPct}% | ${r.all.join(', ')} |`);
  return by;
}

console.log(`\nHit path: GET ${PAGE} (${body.length} bytes), ${connections} connections, ${duration} s per run, median of ${rounds} alternating rounds; ${pin}`);
console.log('\nSame bytes (one request each, no Accept-Encoding):\n');
console.log('| server | Content-Length | body equal | header bytes | headers |');
console.log('|---|---|---|---|---|');
for (const s of seen) console.log(`| ${s.name} | ${s.length} | ${s.bodyEqual ? 'yes' : 'NO'} | ${s.headerBytes} | ${Object.keys(s.headers).sort().join(', ')} |`);
console.log(`\nnginx: every measured request a cache HIT: ${misses === 0 ? 'yes (X-Cache-Status HIT before; 0 non-HIT requests logged during the runs)' : `NO: ${misses} non-HIT requests`}`);

console.log(
  `\nCPU pressure during the saturation runs (PSI, share of time some task waited for a CPU): ${Number.isFinite(pressurePct) ? `${pressurePct}%` : 'n/a'}` +
    (pressurePct > 10 ? ' — other work competed for the cores: absolute figures are low and noisy, compare ratios' : ''),
);
const summary = {};
for (const tool of tools) summary[tool] = table(runs, tool, 'Saturation');
console.log('\nRatios (median figures above; CPU ratio = other server\'s CPU per request / gateway\'s):\n');
console.log('| tool | gateway / bare hono, req/s | same, CPU | gateway / nginx proxy_cache, req/s | same, CPU |');
console.log('|---|---|---|---|---|');
for (const tool of tools) {
  const { bare: b, gateway: g, nginx: n } = summary[tool];
  console.log(`| ${tool} | **${ratio(g.reqPerSec, b.reqPerSec)}** (goal ≥ 0.80) | ${ratio(b.cpuUs, g.cpuUs)} | **${ratio(g.reqPerSec, n.reqPerSec)}** (goal ≥ 0.50) | ${ratio(n.cpuUs, g.cpuUs)} |`);
}
if (tools.length === 2) {
  console.log('\nautocannon vs wrk, same servers (req/s; wrk / autocannon):\n');
  console.log('| server | autocannon req/s | autocannon CPU busy | server CPU busy | wrk req/s | wrk CPU busy | server CPU busy | wrk / autocannon |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const key of Object.keys(summary.autocannon)) {
    const a = summary.autocannon[key];
    const w = summary.wrk[key];
    console.log(`| ${a.name} | ${a.reqPerSec} | ${a.loadPct}% | ${a.serverPct}% | ${w.reqPerSec} | ${w.loadPct}% | ${w.serverPct}% | ${ratio(w.reqPerSec, a.reqPerSec)} |`);
  }
  console.log('\n(CPU busy: CPU time over wall time of the run; a load generator near 100% with its server well below is the bottleneck.)');
}
console.log(`\nSame page at a fixed ${rate} req/s (below saturation), autocannon, ${connections} connections, median of ${rounds} rounds\n`);
console.log('| server | req/s | p50 ms | p99 ms | server CPU µs/request | of which kernel |');
console.log('|---|---|---|---|---|---|');
for (const r of medians(paced, 'autocannon')) console.log(`| ${r.name} | ${r.reqPerSec} | ${f1(r.p50)} | ${f1(r.p99)} | ${r.cpuUs.toFixed(1)} | ${r.sysUs.toFixed(1)} |`);
if (withGzip) {
  console.log(`\nPre-compressed: the same requests with Accept-Encoding: gzip; ${gzipped.length} bytes gzip (level 6) vs ${body.length} identity\n`);
  console.log('| server | Content-Length | Content-Encoding | header bytes |');
  console.log('|---|---|---|---|');
  for (const s of gzSeen) console.log(`| ${s.name} | ${s.length} | ${s.encoding} | ${s.headerBytes} |`);
  console.log(`\nnginx (gzip): every measured request a cache HIT: ${gzMisses === 0 ? 'yes' : `NO: ${gzMisses} non-HIT requests`}`);
  for (const tool of tools) table(gzRuns, tool, 'Saturation, gzip bytes');
}
process.exit(0);
