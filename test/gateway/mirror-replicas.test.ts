// Replicas sharing one PostgreSQL mirror: one pulls a district, every one answers from the
// same copy, and a replica killed half way through a pull leaves nothing published; the next
// replica pulls the district itself.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { freePort } from '../cache/redis-env.js';
import { startReplica, type Replica } from '../helpers/replica.js';
import { ALL_SCOPES, TOKEN_SECRET, tokenAt } from '../helpers/stack.js';
import { freshDatabase, postgresUrl, type TestDatabase } from '../mirror/postgres-env.js';
import { until as poll } from '../helpers/until.js';

const url = postgresUrl();
const BEARER = 'mirror-replicas-bearer';
const ADMIN = 'mirror-replicas-admin-0123456789abcdef';

type Mirror = { state: string; version: string | null; counts: Record<string, number>; pulling: boolean };

async function mirrorOf(gatewayUrl: string, token: string): Promise<Mirror> {
  const res = await fetch(`${gatewayUrl}/districts`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { districts: Array<{ mirror: Mirror }> }).districts[0]!.mirror;
}


/** Pulls across processes take longer than one gateway's: 30 s. */
const until = <T>(probe: () => Promise<T | undefined>, what: string) => poll(probe, what, 30_000, 50);

/** Requests of a full pull (not its catch-up, which filters) for one collection. */
const pullRequests = (s: TestSandbox, collection: string) => s.hits.filter((h) => h.path.endsWith(`/v1p1/${collection}`) && !h.query.includes('filter=')).length;

describe.runIf(url)('replicas sharing a PostgreSQL mirror', () => {
  let db: TestDatabase;
  let sandbox: TestSandbox;
  const gateways: RunningGateway[] = [];
  const replicas: Replica[] = [];

  const config = (port: number, pageSize: number) => ({
    server: { port, host: '127.0.0.1', drainDelayMs: 0, shutdownGraceMs: 1000 },
    auth: { tokenSecret: TOKEN_SECRET, clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }] },
    cache: { deltaSync: { enabled: false } },
    admin: { token: ADMIN },
    mirror: { store: db.url, pageSize },
    districts: [{ id: 'd1', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: BEARER }, mirror: true, upstream: { retry: { maxAttempts: 1 } } }],
  });
  const inProcess = async (pageSize: number) => {
    const gw = await startGateway(parseConfig(JSON.stringify(config(0, pageSize)), {}, 'replica'), { logger: createLogger({ level: 'silent' }) });
    gateways.push(gw);
    return gw;
  };

  beforeEach(async () => {
    db = await freshDatabase(url!);
  });
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.kill()));
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await sandbox?.close();
    await db.dispose();
  });

  it('pulls each district once for every replica, and both answer from the one copy without asking the district', async () => {
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: BEARER }, users: 200, latencyMs: 20 });
    const [a, b] = await Promise.all([inProcess(10_000), inProcess(10_000)]);
    const token = await tokenAt(a.url);
    const ready = (gw: RunningGateway) => until(async () => ((m) => (m.state === 'ready' ? m : undefined))(await mirrorOf(gw.url, token)), 'ready');
    const [ma, mb] = [await ready(a), await ready(b)];
    expect(ma.version).toBe(mb.version);
    expect(pullRequests(sandbox, 'orgs')).toBe(1);
    expect(pullRequests(sandbox, 'users')).toBe(1);

    sandbox.resetHits();
    for (const gw of [a, b]) {
      const res = await fetch(`${gw.url}/districts/d1/ims/oneroster/rostering/v1p2/schools?limit=2`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('MIRROR');
      expect(res.headers.get('x-mirror-version')).toBe(ma.version);
    }
    expect(sandbox.hitCount()).toBe(0);
  });

  it('leaves nothing published when the pulling replica is killed half way; another replica then pulls it whole', async () => {
    // Small pages from a slow district: the pull takes seconds, time enough to kill it.
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: BEARER }, users: 300, latencyMs: 40 });
    const port = await freePort();
    const doomed = await startReplica('mirror-doomed', port, config(port, 25));
    replicas.push(doomed);
    await until(async () => (pullRequests(sandbox, 'users') >= 3 ? true : undefined), 'the pull to reach users');
    await doomed.kill();
    const admin = db.admin();
    expect((await admin`select count(*)::int as n from mirror_copies`)[0]!.n).toBe(0);

    const survivor = await inProcess(25);
    const token = await tokenAt(survivor.url);
    const m = await until(async () => ((x) => (x.state === 'ready' ? x : undefined))(await mirrorOf(survivor.url, token)), 'the survivor to publish');
    // Whole: every record the district has, not the dead replica's part.
    expect(m.counts.users).toBe(sandbox.store.list('users').length);
    expect(m.counts.enrollments).toBe(sandbox.store.list('enrollments').length);
    const res = await fetch(`${survivor.url}/districts/d1/ims/oneroster/v1p1/users?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.headers.get('x-total-count')).toBe(String(m.counts.users));
    expect(res.headers.get('x-cache')).toBe('MIRROR');
  });

  it('answers the change feed and pinned snapshots the same on every replica', async () => {
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: BEARER }, users: 80 });
    const [a, b] = await Promise.all([inProcess(10_000), inProcess(10_000)]);
    const token = await tokenAt(a.url);
    const get = (gw: RunningGateway, path: string) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    // Ready and done: a refresh asked while the first pull still settles joins that pull instead of starting one.
    const first = await until(async () => ((m) => (m.state === 'ready' && !m.pulling ? m : undefined))(await mirrorOf(a.url, token)), 'ready');
    const start = await get(a, '/districts/d1/ims/oneroster/v1p1/users?limit=10');
    const cursor = start.headers.get('x-change-cursor')!;
    const next = new URL(/<([^>]+)>;\s*rel="next"/.exec(start.headers.get('link')!)![1]!);
    expect(cursor).toBe(first.version);

    const users = sandbox.store.list('users');
    sandbox.store.remove('users', users[5]!.sourcedId);
    sandbox.store.update('users', users[6]!.sourcedId, { givenName: 'Quiet' }, { timestamp: false });
    sandbox.store.put('users', { ...users[7]!, sourcedId: 'zz-new' });
    expect((await fetch(`${a.url}/admin/districts/d1/mirror/refresh`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(202);
    const second = await until(async () => ((m) => (m.version !== first.version && m.state === 'ready' && !m.pulling ? m : undefined))(await mirrorOf(a.url, token)), 'a second copy');

    // B never pulled: it reads A's changes and A's pinned copy from the shared store.
    const feeds = await Promise.all([a, b].map(async (gw) => {
      const res = await get(gw, `/districts/d1/changes?since=${cursor}&limit=2`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { changes: Array<Record<string, unknown>>; cursor: string };
      return { body: JSON.stringify(body).replaceAll(gw.url, 'GW'), link: (res.headers.get('link') ?? '').replaceAll(gw.url, 'GW') };
    }));
    expect(feeds[0]).toEqual(feeds[1]);
    const page = JSON.parse(feeds[0]!.body) as { changes: Array<{ sourcedId: string; op: string }>; cursor: string };
    expect(page.changes.map((c) => [c.sourcedId, c.op])).toEqual([[users[5]!.sourcedId, 'deleted'], [users[6]!.sourcedId, 'updated']]);
    const rest = await (await get(b, `/districts/d1/changes?since=${page.cursor}`)).json() as { changes: Array<{ sourcedId: string; op: string }>; cursor: string };
    expect(rest).toMatchObject({ changes: [{ sourcedId: 'zz-new', op: 'created' }], cursor: second.version });
    const pinned = await get(b, next.pathname + next.search);
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get('x-mirror-version')).toBe(first.version);
  }, 60_000);
});
