// Upstream blocks shared by every page size (issue 17): three apps pull users and enrollments
// of one district at once, with limit 100, 200 and 5000, through
//  1. the gateway as configured by default (pages cut from 1000-record blocks),
//  2. the gateway with cache.blockSize 0 (every page fetched from the district as asked),
// and, for reference, one app alone pulling with limit=1000 (one pull). The district answers
// every page `--latency` ms late. Reported: requests that reached the district, wall time.
//   npm run build && node bench/page-blocks.mjs [--users 20000] [--latency 100]
import { BENCH_CLIENT, benchToken, gatewayProcess, sandboxProcess } from './processes.mjs';
import { pullAll } from './sync-client.mjs';
import { num } from './args.mjs';

const users = num('users', 20_000);
const latencyMs = num('latency', 100);
const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users, latencyMs });
const config = (cache) => ({
  auth: { tokenSecret: 'b'.repeat(40), clients: [BENCH_CLIENT] },
  cache: { ttlSeconds: 86_400, staleSeconds: 86_400, maxMemoryBytes: 2 ** 30, deltaSync: { enabled: false }, ...cache },
  districts: [{ id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'bench-token' }, upstream: { timeoutMs: 120_000 } }],
});

async function run(name, cache, limits) {
  const gw = await gatewayProcess(config(cache));
  const headers = { authorization: `Bearer ${await benchToken(gw.url)}` };
  await sandbox.resetHits();
  const t0 = performance.now();
  const pulls = await Promise.all(limits.map((limit) => pullAll(`${gw.url}/districts/d/ims/oneroster/v1p1`, ['users', 'enrollments'], headers, { limit })));
  const seconds = (performance.now() - t0) / 1000;
  const upstream = await sandbox.hits();
  gw.stop();
  await gw.exited;
  return { name, limits, seconds, upstream, pages: pulls.map((p) => p.pages), records: pulls[0].records };
}

const rows = [
  await run('one app, limit 1000, default config', {}, [1000]),
  await run('three apps, limits 100/200/5000, default config (blocks)', {}, [100, 200, 5000]),
  await run('three apps, limits 100/200/5000, cache.blockSize 0 (pages as asked)', { blockSize: 0 }, [100, 200, 5000]),
];
sandbox.stop();

console.log(`\n## Three apps, one district: ${users} users and their enrollments, district ${latencyMs} ms/page\n`);
console.log('| run | client pages | records per app | upstream requests | vs one pull | wall s |');
console.log('|---|---|---|---|---|---|');
const one = rows[0].upstream;
for (const r of rows) console.log(`| ${r.name} | ${r.pages.join(' / ')} | ${r.records} | ${r.upstream} | ${(r.upstream / one).toFixed(2)}× | ${r.seconds.toFixed(2)} |`);
process.exit(0);
