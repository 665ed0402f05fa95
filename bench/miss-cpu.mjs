// CPU per miss page: what the gateway's process spends on each 1000-record page it has to fetch
// from the district (parse, href re-rooting, the last-stop redaction check, storing, compressing
// the stored forms, logging, sending), measured from /proc over a cold sequential pull of a
// sandbox district that answers at once. Baselines in the same run:
//   - a bare forwarding proxy (bench/bare-proxy.mjs): node:http in, node:http out, bytes
//     untouched; the floor any Node proxy pays to receive and re-send the same bytes;
//   - optionally another build (--entry-baseline /tmp/old/dist/main.js).
// Each gateway is fresh (cold) and runs at the default log level with stdout drained.
//   npm run build && node bench/miss-cpu.mjs [--users 20000] [--rounds 3] [--gzip]
//        [--entry-baseline other/dist/main.js] [--gateway-env NAME=value,...] [--profile]
// --gzip: the client sends Accept-Encoding: gzip (as requests, undici, axios do).
// --gateway-env NAME=value,...: environment of the gateway processes, e.g. the Dockerfile's
//   MALLOC_MMAP_THRESHOLD_=131072.
// --profile: one more cold pull of this build under the V8 profiler; prints where time goes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_CLIENT, benchToken, cpuMs, freePort, gatewayProcess, sandboxProcess } from './processes.mjs';
import { spawn } from 'node:child_process';
import { inspectedGatewayProcess } from './diagnostics.mjs';
import { summarizeProfile } from './cpuprofile-summary.mjs';
import { pullAll } from './sync-client.mjs';
import { flag, num, opt } from './args.mjs';

const users = num('users', 20_000);
const rounds = num('rounds', 3);
const baselineEntry = opt('entry-baseline', undefined);
const gzip = flag('gzip');
const gatewayEnv = Object.fromEntries(String(opt('gateway-env', '')).split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const TOKEN = 'bench-token';

const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: TOKEN }, users, latencyMs: 0 });
let prefix = 0;
const config = () => ({
  auth: { tokenSecret: 'b'.repeat(40), clients: [BENCH_CLIENT] },
  cache: { keyPrefix: `miss${prefix++}:`, ttlSeconds: 86_400, staleSeconds: 86_400, maxMemoryBytes: 1024 * 1024 * 1024, deltaSync: { enabled: false } },
  districts: [{ id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: TOKEN } }],
});
const enc = gzip ? { 'accept-encoding': 'gzip' } : {};

async function bareProxy() {
  const port = await freePort();
  const child = spawn(process.execPath, ['bench/bare-proxy.mjs', String(port), sandbox.url, TOKEN], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  return { url: `http://127.0.0.1:${port}`, root: `http://127.0.0.1:${port}/ims/oneroster/v1p1`, cpuMs: () => cpuMs(child.pid), stop: () => child.kill('SIGTERM'), headers: {} };
}

async function gateway(entry) {
  const gw = await gatewayProcess(config(), gatewayEnv, [], entry);
  return { ...gw, root: `${gw.url}/districts/d/ims/oneroster/v1p1`, headers: { authorization: `Bearer ${await benchToken(gw.url)}` } };
}

async function measure(start) {
  const server = await start();
  const hits0 = await sandbox.resetHits();
  const cpu0 = server.cpuMs();
  const r = await pullAll(server.root, ['users', 'enrollments'], { ...server.headers, ...enc }, { limit: 1000, parse: false });
  // Let the last stores (compression on the thread pool, the access lines) finish.
  await new Promise((res) => setTimeout(res, 300));
  const cpu = server.cpuMs() - cpu0;
  const upstream = await sandbox.hits();
  server.stop();
  return { pages: r.pages, cpu, perPage: cpu / r.pages, upstream, seconds: r.seconds, bytes: r.bytes, hits0 };
}

const servers = [['bare forwarding proxy', bareProxy], ['gateway (this build)', () => gateway('dist/main.js')]];
if (baselineEntry) servers.push([`gateway (${baselineEntry})`, () => gateway(baselineEntry)]);
const results = new Map(servers.map(([n]) => [n, []]));
for (let i = 0; i < rounds; i++) for (const [name, start] of servers) results.get(name).push(await measure(start));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${users} users, cold sequential pull of users + enrollments, limit=1000, district at 0 ms, client ${gzip ? 'Accept-Encoding: gzip' : 'identity'}; ${rounds} rounds, interleaved\n`);
console.log('| server | pages | upstream requests | client bytes | CPU ms per page (median) | rounds | vs bare proxy |');
console.log('|---|---|---|---|---|---|---|');
const floor = median(results.get('bare forwarding proxy').map((r) => r.perPage));
for (const [name, rs] of results) {
  const m = median(rs.map((r) => r.perPage));
  console.log(`| ${name} | ${rs[0].pages} | ${rs[0].upstream} | ${rs[0].bytes} | **${m.toFixed(1)}** | ${rs.map((r) => r.perPage.toFixed(1)).join(', ')} | ${(m / floor).toFixed(2)}× |`);
}
const best = median(results.get('gateway (this build)').map((r) => r.perPage));
console.log(`\ngateway CPU above the bare proxy's: ${(best - floor).toFixed(1)} ms per page`);

if (flag('profile')) {
  const gw = await inspectedGatewayProcess(config());
  const headers = { authorization: `Bearer ${await benchToken(gw.url)}`, ...enc };
  let pages = 0;
  const profile = await gw.inspector.profile(async () => {
    pages = (await pullAll(`${gw.url}/districts/d/ims/oneroster/v1p1`, ['users', 'enrollments'], headers, { limit: 1000, parse: false })).pages;
    await new Promise((res) => setTimeout(res, 300));
  });
  await gw.stop();
  const file = join(mkdtempSync(join(tmpdir(), 'miss-cpu-')), 'gateway.cpuprofile');
  writeFileSync(file, JSON.stringify(profile));
  console.log(`\n#### CPU profile (${file}) of one cold pull (${pages} pages; "µs/request" = per page)\n`);
  console.log(summarizeProfile(profile, { top: 30, requests: pages }));
}
sandbox.stop();
process.exit(0);
