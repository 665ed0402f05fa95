// Pass-through cost of the gateway (no cache yet): the same page read directly from a
// sandbox district and through the gateway, measured side by side in one run. Sandboxes
// and the gateway run in their own processes; autocannon runs here.
//   npm run build && node bench/passthrough.mjs [--connections 50] [--seconds 5]
import autocannon from 'autocannon';
import { gatewayProcess, sandboxProcess } from './processes.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const connections = arg('connections', 50);
const duration = arg('seconds', 5);
const PAGE = '/ims/oneroster/v1p1/users?limit=100&offset=0';

const bearer = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 500 });
const signed = await sandboxProcess({ version: 'v1p1', auth: { type: 'oauth1', consumerKey: 'k', consumerSecret: 'bench-secret' }, users: 500 });
const gateway = await gatewayProcess({
  auth: { tokenSecret: 'b'.repeat(40), clients: [{ clientId: 'bench', clientSecret: 'bench-secret-x', districts: ['*'], scopes: ['roster-core.readonly'] }] },
  // Caching off: every request goes to the district (the miss path).
  cache: { ttlSeconds: 0, staleSeconds: 0, deltaSync: { enabled: false } },
  districts: [
    { id: 'bearer', version: 'v1p1', baseUrl: bearer.baseUrl, auth: { type: 'bearer', token: 'bench-token' }, upstream: { maxConcurrency: 64 } },
    { id: 'oauth1', version: 'v1p1', baseUrl: signed.baseUrl, auth: { type: 'oauth1', consumerKey: 'k', consumerSecret: 'bench-secret' }, upstream: { maxConcurrency: 64 } },
  ],
});
const tokenRes = await fetch(`${gateway.url}/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: 'grant_type=client_credentials&client_id=bench&client_secret=bench-secret-x',
});
const { access_token: token } = await tokenRes.json();

async function measure(name, url, headers) {
  const r = await autocannon({ url, connections, duration, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { name, reqPerSec: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, kb: Math.round(r.throughput.average / r.requests.average / 1024) };
}

const rows = [];
rows.push(await measure('sandbox direct (bearer)', `${bearer.url}${PAGE}`, { authorization: 'Bearer bench-token' }));
rows.push(await measure('gateway -> bearer district', `${gateway.url}/districts/bearer${PAGE}`, { authorization: `Bearer ${token}` }));
rows.push(await measure('gateway -> oauth1 district', `${gateway.url}/districts/oauth1${PAGE}`, { authorization: `Bearer ${token}` }));
gateway.stop();
bearer.stop();
signed.stop();

const base = rows[0].reqPerSec;
console.log(`\n${connections} connections, ${duration} s each, GET ${PAGE}\n`);
console.log('| path | req/s | p50 ms | p99 ms | KB/response | vs direct |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${r.kb} | ${(r.reqPerSec / base).toFixed(2)} |`);
process.exit(0);
