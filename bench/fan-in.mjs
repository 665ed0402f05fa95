// Coalescing fan-in: cold requests fired all at once against a slow district (500 ms), counted
// where they land (the sandbox district's own request count):
//  - 200 identical requests: the district must see exactly 1;
//  - 20 distinct pages x 10 duplicates each: the district must see exactly 20;
// on 1 gateway (memory store), 2 and 3 gateways sharing a redis-server (requests spread over
// them by the client, every page's duplicates on every replica), and the 3 behind nginx as a
// round-robin load balancer (HTTP/1.1 keep-alive to the replicas).
//   npm run build && node bench/fan-in.mjs [--fanin 200] [--pages 20] [--dups 10] [--latency 500]
// Exits 1 when a setup made more (or fewer) upstream requests than distinct pages.
import { benchGatewayConfig, benchToken, gatewayProcess, nginxProcess, redisProcess, sandboxProcess } from './processes.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const fanin = arg('fanin', 200);
const pages = arg('pages', 20);
const dups = arg('dups', 10);
const latencyMs = arg('latency', 500);

/** OneRoster requests a replica has answered (its /metrics), or NaN with metrics off. */
async function answered(url) {
  const text = await fetch(`${url}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
  let n = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.includes('http_request_duration_seconds_count') || !line.includes('district="d"')) continue;
    n = (Number.isNaN(n) ? 0 : n) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return text ? (Number.isNaN(n) ? 0 : n) : Number.NaN;
}

// Every case asks for pages nobody asked for before (the replicas share one Redis).
let nextOffset = 0;
/**
 * `total` requests at once for `distinct` cold pages (request i: page i % distinct), sent
 * round-robin over `targets` so each page's duplicates reach every replica.
 */
async function fanIn(label, targets, sandbox, total, distinct, replicas = targets) {
  // Tokens are HS256 over the shared secret: any replica's token works on every replica.
  const token = await benchToken(targets[0]);
  const base = nextOffset;
  nextOffset += distinct;
  await sandbox.resetHits();
  const before = await Promise.all(replicas.map(answered));
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: total }, (_, i) => {
      const page = i % distinct;
      const target = targets[Math.floor(i / distinct + page) % targets.length];
      const path = `/districts/d/ims/oneroster/v1p1/enrollments?limit=100&offset=${base + page}`;
      return fetch(`${target}${path}`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
    }),
  );
  const ms = Math.round(performance.now() - started);
  const upstream = await sandbox.hits();
  const after = await Promise.all(replicas.map(answered));
  const perReplica = after.map((n, i) => n - before[i]).join(' / ');
  return { label, requests: total, distinct, ok: statuses.filter((s) => s === 200).length, upstream, ms, perReplica, pass: upstream === distinct && statuses.every((s) => s === 200) };
}

const slow = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 500, latencyMs });
const identical = [];
const spread = [];
async function both(label, targets, replicas = targets) {
  identical.push(await fanIn(label, targets, slow, fanin, 1, replicas));
  spread.push(await fanIn(label, targets, slow, pages * dups, pages, replicas));
}

const one = await gatewayProcess(benchGatewayConfig(slow));
await both('1 gateway (memory store)', [one.url]);
one.stop();

let redis;
try {
  redis = await redisProcess();
  const replicas = [];
  for (let i = 0; i < 3; i++) replicas.push(await gatewayProcess(benchGatewayConfig(slow, redis.url)));
  const urls = replicas.map((r) => r.url);
  await both('2 gateways sharing Redis', urls.slice(0, 2));
  await both('3 gateways sharing Redis', urls);
  const lb = await nginxProcess({ upstreams: urls, keepalive: 32 });
  await both('3 gateways sharing Redis, behind nginx (round robin)', [lb.url], urls);
  await lb.stop();
  replicas.forEach((r) => r.stop());
} catch (err) {
  const skipped = { label: `2-3 gateways sharing Redis: skipped (${err.code ?? err.message})` };
  identical.push(skipped);
  spread.push(skipped);
} finally {
  redis?.stop();
}
slow.stop();

function table(title, rows, expect) {
  console.log(`\n${title}\n`);
  console.log(`| setup | requests | 200s | upstream requests (must be ${expect}) | wall ms | answered per replica |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r.requests ? `| ${r.label} | ${r.requests} | ${r.ok} | ${r.upstream}${r.pass ? '' : ' **FAIL**'} | ${r.ms} | ${r.perReplica} |` : `| ${r.label} | | | | | |`);
}
table(`Fan-in: ${fanin} identical cold requests at once, district latency ${latencyMs} ms`, identical, 1);
table(`Fan-in: ${pages} distinct cold pages x ${dups} requests each (${pages * dups} at once), district latency ${latencyMs} ms, district maxConcurrency 16 per replica`, spread, pages);
process.exit([...identical, ...spread].every((r) => r.pass !== false) ? 0 : 1);
