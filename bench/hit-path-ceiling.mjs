// What issue 17's 0.8×-bare-hono goal for the cache-hit path leaves the gateway to spend, measured
// in one run: the same warm 100-user page from
//  - a bare @hono/node-server answering the gateway's bytes and headers (the baseline),
//  - the gateway as built (a fresh L1 hit: request id, bearer check, routing, L1 peek,
//    representation, access line and metrics),
//  - the gateway's process with all of that skipped: a patched copy of this build whose fast path
//    answers the memorised page at once (the gateway's server, adapter and app, no gateway logic),
//  - the same, writing the real access line and metrics for every request,
//  - the same, metrics only (LOG_LEVEL=warn: the line's cost is the difference).
// The patched copies are experiments, never shipped: they answer without any bearer check.
//   npm run build && BENCH_SERVER_CPU=1 node bench/hit-path-ceiling.mjs [--rounds 3] [--seconds 5]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { num } from './args.mjs';
import { bareServer, benchGatewayConfig, benchToken, gatewayProcess, pinLoadGenerator, sandboxProcess } from './processes.mjs';

const rounds = num('rounds', 3);
const seconds = num('seconds', 5);
if (spawnSync('wrk', ['--version']).error) throw new Error('wrk not found (Debian: apt-get install -y wrk)');
const loadCpus = pinLoadGenerator();
const PAGE = '/ims/oneroster/v1p1/users?limit=100&offset=0';

/** A copy of dist/ whose fast path, once shown the page (header x-ceiling-memo), answers it from memory. */
function patchedCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'ceiling-'));
  cpSync('dist', join(dir, 'dist'), { recursive: true });
  cpSync('package.json', join(dir, 'package.json'));
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const file = join(dir, 'dist/http/oneroster-pipeline.js');
  const source = readFileSync(file, 'utf8');
  const anchor = 'function fastPath(raw) {';
  if (!source.includes(anchor)) throw new Error(`${file}: no "${anchor}" to patch`);
  const memo = `let ceilingMemo;
    function fastPath(raw) {
        if (ceilingMemo && raw.url === ceilingMemo.url) {
            if (process.env.CEILING_LINE) access.write({ requestId: 'ceiling-0000', method: 'GET', route: 'GET /ims/oneroster/v1p1/users', clientId: 'bench', district: 'd', status: 200, cache: 'HIT', upstreamMs: 0, started: performance.now() });
            return new Response(ceilingMemo.body, { status: 200, headers: ceilingMemo.headers });
        }
        const res = realFastPath(raw);
        if (!raw.headers.get('x-ceiling-memo') || !(res instanceof Response)) return res;
        return res.arrayBuffer().then((b) => {
            ceilingMemo = { url: raw.url, body: Buffer.from(b), headers: Object.fromEntries(res.headers) };
            return new Response(ceilingMemo.body, { status: 200, headers: ceilingMemo.headers });
        });
    }
    function realFastPath(raw) {`;
  writeFileSync(file, source.replace(anchor, memo));
  return join(dir, 'dist/main.js');
}

const district = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 500 });
const patched = patchedCopy();
const variants = [
  { key: 'gateway', name: 'gateway cache hit, as built', env: {}, entry: 'dist/main.js' },
  { key: 'bare-app', name: "gateway's process, no gateway logic", env: {}, entry: patched },
  { key: 'line', name: '… plus the access line and metrics', env: { CEILING_LINE: '1' }, entry: patched },
  { key: 'metrics', name: '… plus metrics only (LOG_LEVEL=warn)', env: { CEILING_LINE: '1', LOG_LEVEL: 'warn' }, entry: patched },
];
const servers = [];
let page;
for (const v of variants) {
  const gw = await gatewayProcess(benchGatewayConfig(district), v.env, [], v.entry);
  const auth = `Bearer ${await benchToken(gw.url)}`;
  const url = `${gw.url}/districts/d${PAGE}`;
  const headers = { authorization: auth, 'accept-encoding': 'identity' };
  await fetch(url, { headers }).then((r) => r.arrayBuffer());
  const r = await fetch(url, { headers: { ...headers, 'x-ceiling-memo': '1' } });
  const body = Buffer.from(await r.arrayBuffer());
  if (r.headers.get('x-cache') !== 'HIT') throw new Error(`${v.name}: the page is not warm (${r.headers.get('x-cache')})`);
  page ??= { body, headers: Object.fromEntries([...r.headers].filter(([k]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k))) };
  if (!body.equals(page.body)) throw new Error(`${v.name}: not the same bytes`);
  servers.push({ ...v, url, auth, cpuMs: gw.cpuMs, stop: gw.stop });
}
const dir = mkdtempSync(join(tmpdir(), 'ceiling-page-'));
writeFileSync(join(dir, 'page.json'), page.body);
const bare = await bareServer(join(dir, 'page.json'), page.headers);
servers.unshift({ key: 'bare', name: 'bare @hono/node-server, same bytes', url: `${bare.url}${PAGE}`, auth: servers[0].auth, cpuMs: bare.cpuMs, stop: bare.stop });

// Alternating rounds, medians: the two cores drift in speed over a run.
const runs = new Map(servers.map((s) => [s.key, []]));
for (let i = 0; i < rounds; i++) {
  for (const s of servers) {
    const cpu0 = s.cpuMs();
    const w = spawnSync('wrk', ['-t1', '-c50', `-d${seconds}s`, '-H', `authorization: ${s.auth}`, s.url], { encoding: 'utf8' });
    const total = Number(/(\d+) requests in/.exec(w.stdout)?.[1]);
    if (!(total > 0) || /Non-2xx|Socket errors/.test(w.stdout)) throw new Error(`${s.name}: ${w.stdout}${w.stderr}`);
    runs.get(s.key).push({ reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(w.stdout)[1]), cpuUs: ((s.cpuMs() - cpu0) * 1000) / total });
  }
}
for (const s of servers) s.stop();
district.stop();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bareRps = median(runs.get('bare').map((r) => r.reqPerSec));
const bareCpu = median(runs.get('bare').map((r) => r.cpuUs));
console.log(`\nHit-path ceiling: GET ${PAGE} (${page.body.length} bytes), wrk 50 connections, ${seconds} s, median of ${rounds} alternating rounds; ${process.env.BENCH_SERVER_CPU ? `servers on core ${process.env.BENCH_SERVER_CPU}, wrk on ${loadCpus}` : 'unpinned'}\n`);
console.log('| server | req/s | / bare hono | CPU µs/request | bare hono CPU / this | req/s per round |');
console.log('|---|---|---|---|---|---|');
for (const s of servers) {
  const xs = runs.get(s.key);
  const rps = median(xs.map((r) => r.reqPerSec));
  const cpu = median(xs.map((r) => r.cpuUs));
  console.log(`| ${s.name} | ${Math.round(rps)} | ${(rps / bareRps).toFixed(2)} | ${cpu.toFixed(1)} | ${(bareCpu / cpu).toFixed(2)} | ${xs.map((r) => Math.round(r.reqPerSec)).join(', ')} |`);
}
process.exit(0);
