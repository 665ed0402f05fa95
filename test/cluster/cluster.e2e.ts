// The cluster as an operator runs it: one redis-server, three gateway replicas (`node
// dist/main.js`, each its own process) and nginx as a round-robin load balancer, all on
// loopback, in front of sandbox districts with latency. Each check is a bounded loop over real
// requests; the figures go into a table printed at the end.
//   npm run e2e:cluster
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type TestSandbox, type SandboxOptions } from '../../src/sandbox/testing.js';
import { freePort, startRedisServer, type RedisServer } from '../cache/redis-server.js';
import { ALL_SCOPES } from '../helpers/stack.js';
import { startLoad, tally, type Outcome } from './load.js';
import { startNginx, type Nginx } from './nginx.js';
import { startReplica, type Replica } from '../helpers/replica.js';

const TOKEN_SECRET = 'cluster-token-secret-0123456789abcdefgh';
const CLIENT = { clientId: 'app', clientSecret: 'cluster-app-secret' };
const ADMIN = 'cluster-admin-token-0123456789abcdef';
const SYNC_INTERVAL_S = 5;
const UPSTREAM_SECRETS = ['north-consumer-secret-value', 'south-client-secret-value', 'outage-bearer-value'];

const sandboxOptions: Record<string, SandboxOptions> = {
  // OAuth 1.0a signed, 1.1; OAuth 2.0 client credentials, 1.2; a bearer district that will go down.
  north: { version: 'v1p1', auth: { type: 'oauth1', consumerKey: 'north-key', consumerSecret: UPSTREAM_SECRETS[0]! }, users: 300, latencyMs: 60, seed: 11 },
  south: { version: 'v1p2', auth: { type: 'oauth2', clientId: 'south-id', clientSecret: UPSTREAM_SECRETS[1]! }, users: 300, latencyMs: 150, seed: 12 },
  outage: { version: 'v1p1', auth: { type: 'bearer', token: UPSTREAM_SECRETS[2]! }, users: 100, latencyMs: 20, seed: 13 },
};

const sandboxes: Record<string, TestSandbox> = {};
let redis: RedisServer;
let nginx: Nginx;
const replicas: Replica[] = [];
let token = '';
const rows: Array<[string, string, string]> = [];
const record = (check: string, figure: string, ok: boolean) => rows.push([check, figure, ok ? 'ok' : 'FAILED']);

function upstreamAuth(id: string): Record<string, unknown> {
  const s = sandboxes[id]!;
  const a = sandboxOptions[id]!.auth;
  if (a.type === 'oauth1') return { type: 'oauth1', consumerKey: a.consumerKey, consumerSecret: a.consumerSecret };
  if (a.type === 'oauth2') return { type: 'oauth2', tokenUrl: s.tokenUrl, clientId: a.clientId, clientSecret: a.clientSecret };
  return { type: 'bearer', token: a.token };
}

function replicaConfig(port: number, publicUrl: string): object {
  return {
    server: { host: '127.0.0.1', port, publicUrl, drainDelayMs: 0, shutdownGraceMs: 2000 },
    auth: { tokenSecret: TOKEN_SECRET, clients: [{ ...CLIENT, districts: ['*'], scopes: ALL_SCOPES }] },
    admin: { token: ADMIN },
    metrics: { enabled: true },
    cache: { store: redis.url, keyPrefix: 'cluster:', ttlSeconds: 600, deltaSync: { enabled: true, intervalSeconds: SYNC_INTERVAL_S } },
    districts: Object.keys(sandboxOptions).map((id) => ({
      id,
      name: `District ${id}`,
      version: sandboxOptions[id]!.version,
      baseUrl: sandboxes[id]!.baseUrl,
      auth: upstreamAuth(id),
      // The outage district's pages go stale after a second, so the outage meets stale entries.
      ...(id === 'outage' ? { cache: { ttlSeconds: 1, staleSeconds: 3600 } } : {}),
    })),
  };
}

const auth = () => ({ authorization: `Bearer ${token}` });
const path = (district: string, rest: string) =>
  `/districts/${district}/ims/oneroster/${sandboxOptions[district]!.version === 'v1p2' ? 'rostering/v1p2' : 'v1p1'}${rest}`;
// `body` is whatever JSON came back; each check reads the fields it expects.
async function get(base: string, p: string): Promise<{ status: number; cache: string | null; body: any; text: string }> {
  const res = await fetch(`${base}${p}`, { headers: auth() });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, cache: res.headers.get('x-cache'), body, text };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The default cache.blockSize: collection pages are cut from the district's 1000-record blocks.
const BLOCK = 1000;
/** Upstream data requests for the page `limit`/`offset` of `collection`, and nothing else (delta-sync polls page too). */
function upstreamHits(id: string, collection: string, limit: number, offset: number): number {
  return sandboxes[id]!.hits.filter((h) => {
    const q = new URLSearchParams(h.query.replace(/^\?/, ''));
    return h.path.endsWith(`/${collection}`) && q.get('limit') === String(limit) && q.get('offset') === String(offset) && !q.has('filter');
  }).length;
}

async function metric(replica: Replica, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`oneroster_gateway_${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

beforeAll(async () => {
  for (const [id, opts] of Object.entries(sandboxOptions)) sandboxes[id] = await startSandbox(opts);
  redis = await startRedisServer();
  const lbPort = await freePort();
  const ports = [await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${lbPort}`; // every replica builds the same links, so they share entries
  replicas.push(...(await Promise.all(ports.map((p, i) => startReplica(`replica-${i + 1}`, p, replicaConfig(p, publicUrl))))));
  nginx = await startNginx(lbPort, ports);
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await redis?.dispose();
  await Promise.all(Object.values(sandboxes).map((s) => s.close()));
  const width = [0, 1, 2].map((c) => Math.max(...[['check', 'figure', 'result'], ...rows].map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((x, c) => x.padEnd(width[c]!)).join(' | ')} |`;
  process.stdout.write(
    `\nCluster: redis-server, 3 gateway replicas, nginx round-robin; districts north (1.1 OAuth1, 60 ms), south (1.2 OAuth2, 150 ms), outage (bearer, 20 ms)\n\n` +
      [line(['check', 'figure', 'result']), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') +
      '\n\n',
  );
});

describe('a cluster of three replicas behind nginx, sharing Redis', () => {
  it('a token from the load balancer works on every replica, and one from a replica works through the load balancer', async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    const res = await fetch(`${nginx.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(res.status).toBe(200);
    token = ((await res.json()) as { access_token: string }).access_token;
    const statuses = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/districts`, { headers: auth() })).status));
    expect(statuses).toEqual([200, 200, 200]);
    const own = await fetch(`${replicas[2]!.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const ownToken = ((await own.json()) as { access_token: string }).access_token;
    const through = await Promise.all([0, 1, 2].map(async () => (await fetch(`${nginx.url}/districts`, { headers: { authorization: `Bearer ${ownToken}` } })).status));
    expect(through).toEqual([200, 200, 200]);
    record('token on every replica', `3/3 replicas, 3/3 through nginx`, true);
  });

  it('a page cached through one replica is a hit on the others', async () => {
    const p = path('north', '/orgs?limit=5&offset=1');
    const first = await get(replicas[0]!.url, p);
    expect(first.status).toBe(200);
    expect(first.cache).toBe('MISS');
    const others = await Promise.all([replicas[1]!, replicas[2]!].map((r) => get(r.url, p)));
    expect(others.map((o) => o.cache)).toEqual(['HIT', 'HIT']);
    expect(others.every((o) => o.text === first.text)).toBe(true);
    // The one upstream request: the block the page was cut from.
    expect(upstreamHits('north', 'orgs', BLOCK, 0)).toBe(1);
    record('cross-replica hit', `MISS on replica 1, HIT on 2 and 3; 1 upstream request`, true);
  });

  it('N concurrent cold requests over every replica reach the district once', async () => {
    const N = 90;
    const direct = path('south', '/users?limit=25&offset=37');
    const viaLb = path('south', '/users?limit=25&offset=41');
    const started = performance.now();
    const results = await Promise.all([
      ...Array.from({ length: N }, (_, i) => get(replicas[i % 3]!.url, direct)),
      ...Array.from({ length: N }, () => get(nginx.url, viaLb)),
    ]);
    const ms = Math.round(performance.now() - started);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.slice(0, N).map((r) => r.text)).size).toBe(1);
    expect(new Set(results.slice(N).map((r) => r.text)).size).toBe(1);
    // Both pages are cut from one block: 2N requests over three replicas, one upstream request.
    const block = upstreamHits('south', 'users', BLOCK, 0);
    expect(block).toBe(1);
    record('cold fan-in, 3 replicas direct and through nginx', `${2 * N} requests for two pages -> ${block} upstream request (their block; in ${ms} ms)`, block === 1);
  });

  it('a delta change in the district is visible through every replica within the sync interval', async () => {
    const user = sandboxes.north!.store.list('users')[7]!;
    const p = path('north', `/users/${user.sourcedId}`);
    for (const r of replicas) {
      // Twice, so every replica holds the page in its own memory too.
      await get(r.url, p);
      expect((await get(r.url, p)).cache).toBe('HIT');
    }
    const name = `Renamed ${Date.now()}`;
    const changedAt = performance.now();
    sandboxes.north!.store.update('users', user.sourcedId, { givenName: name });
    const seenAfter: number[] = [];
    for (const r of replicas) {
      for (;;) {
        const got = await get(r.url, p);
        if (got.body?.user?.givenName === name) break;
        expect(performance.now() - changedAt).toBeLessThan((SYNC_INTERVAL_S + 5) * 1000);
        await sleep(100);
      }
      seenAfter.push(Math.round(performance.now() - changedAt));
    }
    const worst = Math.max(...seenAfter);
    record('delta change visible on every replica', `${(worst / 1000).toFixed(1)} s (sync interval ${SYNC_INTERVAL_S} s)`, worst < (SYNC_INTERVAL_S + 5) * 1000);
  });

  it('a gradebook write through the load balancer is read back through every replica', async () => {
    const list = path('north', '/lineItems?limit=10000');
    for (const r of replicas) {
      await get(r.url, list);
      expect((await get(r.url, list)).cache).toBe('HIT');
    }
    const before = await get(replicas[0]!.url, list);
    const id = `li-cluster-${Date.now()}`;
    const li = { ...before.body.lineItems[0], sourcedId: id, title: 'Written through nginx' };
    const writtenAt = performance.now();
    const put = await fetch(`${nginx.url}${path('north', `/lineItems/${id}`)}`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ lineItem: li }),
    });
    expect([200, 201]).toContain(put.status);
    const answeredAt = performance.now();
    const seenAfter: number[] = [];
    for (const r of replicas) {
      for (;;) {
        const got = await get(r.url, list);
        if (got.body.lineItems.some((l: { sourcedId: string }) => l.sourcedId === id)) break;
        // Invalidation is published before the write is answered; pub/sub reaches the others at once.
        expect(performance.now() - writtenAt).toBeLessThan(SYNC_INTERVAL_S * 1000);
        await sleep(20);
      }
      seenAfter.push(Math.round(performance.now() - answeredAt));
    }
    record(
      'gradebook write visible on every replica',
      `PUT answered in ${Math.round(answeredAt - writtenAt)} ms; read back on all 3 within ${Math.max(...seenAfter)} ms of the answer`,
      true,
    );
  });

  it('an upstream outage is answered from stale entries, and shows in the metrics', async () => {
    const pages = [0, 1, 2, 3].map((i) => path('outage', `/classes?limit=10&offset=${i * 10}`));
    for (const p of pages) for (const r of replicas) await get(r.url, p);
    const staleBefore = (await Promise.all(replicas.map((r) => metric(r, 'stale_served_total', { district: 'outage' })))).reduce((a, b) => a + b, 0);
    const port = Number(new URL(sandboxes.outage!.url).port);
    await sandboxes.outage!.close();
    await sleep(1200); // past the pages' 1 s TTL
    const results = [];
    for (let i = 0; i < 24; i++) results.push(await get(nginx.url, pages[i % pages.length]!));
    const statuses = results.map((r) => r.status);
    const caches = results.map((r) => r.cache);
    // (Not /classes: any page of classes is cut from the stale block and answers STALE too.)
    const cold = await get(nginx.url, path('outage', '/courses?limit=10&offset=90'));
    const staleAfter = (await Promise.all(replicas.map((r) => metric(r, 'stale_served_total', { district: 'outage' })))).reduce((a, b) => a + b, 0);
    const errors = (await Promise.all(replicas.map((r) => metric(r, 'upstream_errors_total', { district: 'outage' })))).reduce((a, b) => a + b, 0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(caches.every((c) => c === 'STALE')).toBe(true);
    // A collection never read has nothing to fall back on: a clear JSON error, not a hang.
    expect([502, 503, 504]).toContain(cold.status);
    expect(cold.body?.statusInfoSet?.[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
    expect(cold.text).not.toContain(new URL(sandboxes.outage!.url).host);
    expect(staleAfter - staleBefore).toBeGreaterThanOrEqual(24);
    expect(errors).toBeGreaterThan(0);
    // The district comes back on the same address: fresh pages again.
    sandboxes.outage = await startSandbox({ ...sandboxOptions.outage!, port });
    let fresh = '';
    for (let i = 0; i < 100 && fresh !== 'MISS' && fresh !== 'HIT'; i++) {
      fresh = (await get(nginx.url, pages[0]!)).cache ?? '';
      if (fresh !== 'MISS' && fresh !== 'HIT') await sleep(100);
    }
    expect(['MISS', 'HIT']).toContain(fresh);
    record('upstream outage', `24/24 answered 200 STALE; stale_served +${staleAfter - staleBefore}, upstream_errors ${errors}; cold page ${cold.status}`, true);
  });

  it('stopping Redis during load causes no 5xx, and the cluster shares its cache again once Redis is back', async () => {
    let cold = 0;
    const load = startLoad({
      concurrency: 12,
      // Mostly warm pages, every fourth a page no replica has seen: those need the store and the district.
      next: (i) => ({ url: `${nginx.url}${path('north', i % 4 === 0 ? `/courses?limit=3&offset=${1000 + cold++}` : `/orgs?limit=5&offset=1`)}`, headers: auth() }),
    });
    await sleep(1000);
    const stoppedAt = performance.now();
    await redis.stop();
    await sleep(2500);
    await redis.start();
    const startedAt = performance.now();
    await sleep(1500);
    const outcomes = await load.stop();
    const during = outcomes.filter((o) => o.startedAt >= stoppedAt && o.startedAt < startedAt);
    const t = tally(outcomes);
    expect(t.s5xx).toBe(0);
    expect(t.failed).toBe(0);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((o) => o.status === 200)).toBe(true);
    // Back: a page read through one replica becomes a hit on another, through Redis.
    let recoveredMs = -1;
    for (let i = 0; i < 100 && recoveredMs < 0; i++) {
      const p = path('north', `/courses?limit=2&offset=${5000 + i}`);
      await get(replicas[0]!.url, p);
      if ((await get(replicas[1]!.url, p)).cache === 'HIT') recoveredMs = Math.round(performance.now() - startedAt);
      else await sleep(100);
    }
    expect(recoveredMs).toBeGreaterThanOrEqual(0);
    record('Redis stopped 2.5 s during load', `${t.total} requests, ${during.length} while down: ${t.ok} 200, ${t.s5xx} 5xx, ${t.failed} failed`, true);
    record('Redis back', `cross-replica hits again ${recoveredMs} ms after restart`, true);
  });

  it('killing a replica during load fails no request but those in flight on it', async () => {
    const victim = replicas[2]!;
    let inFlightAtKill = 0;
    const load = startLoad({
      concurrency: 12,
      next: (i) => ({ url: `${nginx.url}${path('south', i % 5 === 0 ? `/classes?limit=4&offset=${i}` : '/users?limit=25&offset=37')}`, headers: auth() }),
    });
    await sleep(1000);
    inFlightAtKill = load.inFlight();
    const killedAt = performance.now();
    await victim.kill();
    await sleep(2000);
    const outcomes = await load.stop();
    const t = tally(outcomes);
    const failed = outcomes.filter((o) => o.status !== 200);
    // What failed started before the kill and ended after it: it was in flight.
    const notInFlight = failed
      .filter((o: Outcome) => !(o.startedAt < killedAt && o.endedAt >= killedAt))
      .map((o) => ({ url: o.url.slice(nginx.url.length), status: o.status, error: o.error, startedMs: Math.round(o.startedAt - killedAt), tookMs: Math.round(o.endedAt - o.startedAt) }));
    expect(notInFlight).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(inFlightAtKill);
    const retried = nginx.accessLog().filter((l) => l.includes(`127.0.0.1:${victim.port}, `)).length;
    const after = outcomes.filter((o) => o.startedAt > killedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((o) => o.status === 200)).toBe(true);
    // A page the dead replica was fetching for the cluster waits out its lease (3 s), no more.
    const slowest = Math.round(Math.max(...outcomes.map((o) => o.endedAt - o.startedAt)));
    expect(slowest).toBeLessThan(6_000);
    record(
      'replica killed (SIGKILL) during load',
      `${t.total} requests, ${inFlightAtKill} in flight at the kill: ${t.ok} 200, ${failed.length} failed, ${retried} retried by nginx on another replica; slowest ${slowest} ms`,
      true,
    );
    // It comes back and serves from the shared cache at once.
    const restartAt = performance.now();
    await victim.start();
    const readyMs = Math.round(performance.now() - restartAt);
    const back = await get(victim.url, path('south', '/users?limit=25&offset=37'));
    expect(back.status).toBe(200);
    expect(back.cache).toBe('HIT');
    record('killed replica restarted', `ready in ${readyMs} ms, first read a ${back.cache} from Redis`, true);
  });

  it('no upstream credential or upstream address reaches a log line', () => {
    const logs = replicas.map((r) => r.output()).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of UPSTREAM_SECRETS) expect(logs).not.toContain(secret);
    for (const s of Object.values(sandboxes)) expect(logs).not.toContain(new URL(s.url).host);
    record('logs of 3 replicas', `${logs.split('\n').length} lines, no upstream secret or address`, true);
  });
});
