// Memory of a gateway process holding a large district in its cache, against
// cache.maxMemoryBytes: for each setting, one gateway (memory store) is filled by pulling
// every users page of a 100,000-user sandbox district through it (limit=1000: 100 pages,
// optionally every enrollments page too), and its memory read at each stage: idle before the
// fill, right after it, after some seconds idle, and after a forced full GC (over the V8
// inspector; /readyz cannot do that). RSS and its peak (VmHWM) come from /proc/<pid>/status;
// V8 heap and Buffer (external) memory from process.memoryUsage() inside the gateway; the
// cache's own accounting from GET /districts and /metrics. Goal: RSS <= maxMemoryBytes + 100 MiB.
//   npm run build && node bench/memory.mjs
//   options: [--users 100000] [--limit 1000] [--settings 256,32] (MiB; 256 is the default
//            cache.maxMemoryBytes; "256e" fills that one with enrollments too)
//            [--enrollments] (every setting) [--idle-seconds 5] [--heap-snapshot]
//            [--gateway-env NAME=value,...] (environment of the gateway processes)
//            [--redis redis://host:port | --redis spawn] (L2 in Redis instead of this process)
// --heap-snapshot writes a .heapsnapshot of each filled gateway (after the forced GC) to a
// temporary directory and prints what it holds by type.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heapSnapshotSummary, inspectedGatewayProcess, procMemory } from './diagnostics.mjs';
import { BENCH_CLIENT, benchToken, freePort, sandboxProcess } from './processes.mjs';
import { pullAll } from './sync-client.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[i + 1] : def;
};
const flag = (name) => argv.includes(`--${name}`);
const users = Number(opt('users', 100_000));
const limit = Number(opt('limit', 1000));
// "256e": that setting filled with enrollments as well (--enrollments: every setting).
const settings = String(opt('settings', '256,32'))
  .split(',')
  .map((v) => ({ mib: Number.parseInt(v, 10), collections: flag('enrollments') || /e$/.test(v) ? ['users', 'enrollments'] : ['users'] }));
const idleSeconds = Number(opt('idle-seconds', 5));
const snapshot = flag('heap-snapshot');
// Extra environment for the gateways, e.g. --gateway-env MALLOC_MMAP_THRESHOLD_=131072
const gatewayEnv = Object.fromEntries(String(opt('gateway-env', '')).split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const MiB = 1024 * 1024;
const GOAL_SLACK = 100 * MiB;

const DISTRICT_TOKEN = 'bench-token';
// --redis URL (or `spawn`: a throwaway redis-server): L2 then lives in Redis, and the
// gateway process holds only its in-process tier.
const redisOpt = opt('redis', undefined);
let store = 'memory';
if (redisOpt === 'spawn') {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', mkdtempSync(join(tmpdir(), 'bench-redis-'))], { stdio: 'ignore' });
  process.on('exit', () => redis.kill('SIGKILL'));
  await new Promise((resolve, reject) => {
    redis.once('error', reject);
    setTimeout(resolve, 300);
  });
  store = `redis://127.0.0.1:${port}`;
} else if (redisOpt) store = redisOpt;
let prefixes = 0;
const gatewayConfig = (sandbox, maxMemoryBytes) => ({
  auth: { tokenSecret: 'b'.repeat(40), clients: [BENCH_CLIENT] },
  cache: { store, keyPrefix: `mem${process.pid}-${prefixes++}:`, maxMemoryBytes, ttlSeconds: 86_400, staleSeconds: 86_400, deltaSync: { enabled: false } },
  metrics: { enabled: true },
  districts: [{ id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: DISTRICT_TOKEN }, upstream: { timeoutMs: 120_000 } }],
});

async function metricValues(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^oneroster_gateway_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    cacheBytes: value('cache_bytes'),
    cacheEntries: value('cache_entries'),
    heapUsed: value('nodejs_heap_size_used_bytes'),
    heapTotal: value('nodejs_heap_size_total_bytes'),
    promRss: value('process_resident_memory_bytes'),
    external: value('nodejs_external_memory_bytes'),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const genStart = performance.now();
const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: DISTRICT_TOKEN }, users });
const genSeconds = (performance.now() - genStart) / 1000;
const sandboxRss = procMemory(sandbox.pid).rss;

const results = [];
const snapshotDir = snapshot ? mkdtempSync(join(tmpdir(), 'bench-heap-')) : undefined;
for (const { mib, collections } of settings) {
  const maxMemoryBytes = mib * MiB;
  const gw = await inspectedGatewayProcess(gatewayConfig(sandbox, maxMemoryBytes), { env: gatewayEnv });
  const headers = { authorization: `Bearer ${await benchToken(gw.url)}` };
  const stage = async (name) => {
    const proc = gw.memory();
    const usage = await gw.inspector.memoryUsage();
    const m = await metricValues(gw.url);
    const cache = (await (await fetch(`${gw.url}/districts`, { headers })).json()).districts[0].cache;
    return { name, ...proc, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers, entries: cache.entries, bytes: cache.bytes, metrics: m };
  };
  const stages = [];
  await sleep(2000);
  stages.push(await stage('idle, before the fill'));
  const pull = await pullAll(`${gw.url}/districts/d/ims/oneroster/v1p1`, collections, headers, { limit });
  stages.push(await stage(`after the fill (${pull.pages} pages, ${(pull.bytes / MiB).toFixed(1)} MiB of bodies, ${pull.seconds.toFixed(1)} s)`));
  await sleep(idleSeconds * 1000);
  stages.push(await stage(`after ${idleSeconds} s idle`));
  await gw.inspector.collectGarbage();
  await sleep(500);
  stages.push(await stage('after a forced full GC'));
  let heap;
  if (snapshot) {
    const file = await gw.inspector.heapSnapshot(join(snapshotDir, `gateway-${mib}MiB.heapsnapshot`));
    heap = { file, size: statSync(file).size, ...heapSnapshotSummary(file) };
    rmSync(file);
  }
  await gw.stop();
  results.push({ mib, label: `${mib} MiB${collections.length > 1 ? ', users + enrollments' : ''}`, maxMemoryBytes, stages, pull, heap });
  process.stderr.write(`${mib} MiB: done\n`);
}
sandbox.stop();

const m = (b) => (Number.isFinite(b) ? (b / MiB).toFixed(1) : '–');
const storeLabel = store === 'memory' ? 'memory store' : 'Redis store (L2 in redis-server)';
console.log(`\n## Gateway memory with a ${users}-user district cached (limit=${limit}), ${storeLabel}\n`);
console.log(`Sandbox district generated in ${genSeconds.toFixed(1)} s (sandbox RSS ${m(sandboxRss)} MiB). Gateway: ${storeLabel}, ttlSeconds/staleSeconds 86400, deltaSync off, metrics on${Object.keys(gatewayEnv).length ? `, environment ${Object.entries(gatewayEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}. Goal: RSS <= cache.maxMemoryBytes + 100 MiB. MiB = 2^20 bytes.`);
console.log('"cache" is the gateway\'s own accounting of its in-process tier (GET /districts `cache.entries`/`cache.bytes`; /metrics `cache_bytes` agrees); heap and external are process.memoryUsage() in the gateway.\n');
console.log('| maxMemoryBytes | stage | RSS MiB | peak RSS (VmHWM) MiB | V8 heap used MiB | V8 heap total MiB | external (Buffers) MiB | cache entries | cache MiB | RSS <= max + 100 MiB |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  for (const s of r.stages) {
    const ok = s.rss <= r.maxMemoryBytes + GOAL_SLACK;
    console.log(`| ${r.label} | ${s.name} | ${m(s.rss)} | ${m(s.hwm)} | ${m(s.heapUsed)} | ${m(s.heapTotal)} | ${m(s.external)} | ${s.entries} | ${m(s.bytes)} | ${ok ? 'yes' : '**no**'} (limit ${m(r.maxMemoryBytes + GOAL_SLACK)}) |`);
  }
}
console.log('\n| maxMemoryBytes | /metrics cache_bytes MiB | cache_entries | process_resident_memory_bytes MiB | nodejs_heap_size_used_bytes MiB | nodejs_external_memory_bytes MiB | peak RSS <= max + 100 MiB |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  const s = r.stages[r.stages.length - 1];
  const peak = Math.max(...r.stages.map((x) => x.hwm));
  console.log(`| ${r.label} | ${m(s.metrics.cacheBytes)} | ${s.metrics.cacheEntries} | ${m(s.metrics.promRss)} | ${m(s.metrics.heapUsed)} | ${m(s.metrics.external)} | ${peak <= r.maxMemoryBytes + GOAL_SLACK ? 'yes' : '**no**'} (${m(peak)}) |`);
}
// Where the growth went: Buffers (external) are the in-process tier's page bodies; the V8
// heap holds everything else the cache keeps.
console.log('\nGrowth from idle to after the forced GC, against what the cache accounts for:\n');
console.log('| maxMemoryBytes | cache accounts MiB | external (Buffers) growth MiB | V8 heap used growth MiB | RSS growth MiB | idle RSS MiB | RSS after GC MiB |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  const [idle, , , gc] = r.stages;
  console.log(`| ${r.label} | ${m(gc.bytes)} | ${m(gc.external - idle.external)} | ${m(gc.heapUsed - idle.heapUsed)} | ${m(gc.rss - idle.rss)} | ${m(idle.rss)} | ${m(gc.rss)} |`);
}
for (const r of results) {
  if (!r.heap) continue;
  console.log(`\n### Heap snapshot, ${r.label}, after the forced GC (${m(r.heap.total)} MiB of objects)\n`);
  const big = r.heap.bigStrings;
  // A page body is JSON text starting with its wrapper key; the rest are module sources and the like.
  const bodies = big.byHead.filter((g) => g.name.startsWith('{"'));
  const others = big.byHead.filter((g) => !g.name.startsWith('{"'));
  const sum = (gs, k) => gs.reduce((a, g) => a + g[k], 0);
  console.log(
    `Strings of 64 KiB or more: ${big.count} (${m(big.bytes)} MiB). Page bodies held as text: ` +
      `${bodies.map((g) => `${g.count} starting \`${g.name}…\` (${m(g.bytes)} MiB)`).join(', ') || 'none'}; ` +
      `other (module sources etc.): ${sum(others, 'count')} (${m(sum(others, 'bytes'))} MiB). ` +
      `The cache's in-process tier (L1) holds ${r.stages[3].entries} pages (${m(r.stages[3].bytes)} MiB), as Buffers.\n`,
  );
  console.log('| node type | count | MiB |');
  console.log('|---|---|---|');
  for (const t of r.heap.byType.slice(0, 8)) console.log(`| ${t.name} | ${t.count} | ${m(t.bytes)} |`);
  console.log('\n| largest groups (type: name) | count | MiB |');
  console.log('|---|---|---|');
  for (const t of r.heap.top) console.log(`| ${t.name.replace(/\|/g, '\\|')} | ${t.count} | ${m(t.bytes)} |`);
}
process.exit(0);
