import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { redisUrl, uniquePrefix } from '../cache/redis-env.js';
import { ALL_SCOPES, TOKEN_SECRET, tokenAt } from '../helpers/stack.js';

// Two gateway replicas sharing one real Redis, in front of one slow sandbox district.
const url = redisUrl();
const ADMIN = 'admin-token-0123456789abcdefghij';

/** One replica's config: behind one load balancer every replica sees the same public URL, so they share entries. */
function replicaConfig(sandbox: TestSandbox, keyPrefix: string, deltaSync: object) {
  return parseConfig(
    JSON.stringify({
      server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 1000, publicUrl: 'https://gateway.example.org' },
      auth: { tokenSecret: TOKEN_SECRET, clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }] },
      admin: { token: ADMIN },
      cache: { store: url, keyPrefix, ttlSeconds: 600, deltaSync },
      districts: [{ id: 'd1', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'replica-bearer' } }],
    }),
    {},
    'replica',
  );
}

describe.runIf(url)('two replicas sharing Redis', () => {
  let sandbox: TestSandbox;
  const replicas: RunningGateway[] = [];
  const tokens: string[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'replica-bearer' }, users: 150, latencyMs: 150 });
    // Keys of their own, so runs and other suites sharing this Redis never meet.
    const prefix = uniquePrefix('replicas');
    for (let i = 0; i < 2; i++) {
      const config = replicaConfig(sandbox, prefix, { enabled: false });
      const logger = createLogger({ destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
      replicas.push(await startGateway(config, { logger }));
    }
    for (const r of replicas) tokens.push(await tokenAt(r.url));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await sandbox?.close();
  });

  const get = (i: number, path: string) => request(replicas[i]!.url).get(`/districts/d1/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${tokens[i]}`);

  it('a token from one replica works on the other', async () => {
    const res = await request(replicas[1]!.url).get('/districts').set('authorization', `Bearer ${tokens[0]}`);
    expect(res.status).toBe(200);
  });

  it('a page cached through one replica is a hit on the other', async () => {
    sandbox.resetHits();
    expect((await get(0, '/orgs?limit=3')).headers['x-cache']).toBe('MISS');
    const other = await get(1, '/orgs?limit=3');
    expect(other.headers['x-cache']).toBe('HIT');
    expect(sandbox.hitCount()).toBe(1);
  });

  it('N identical cold requests over both replicas reach the district once', async () => {
    sandbox.resetHits();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(i % 2, '/enrollments?limit=50&offset=50')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('a write through one replica is seen by the next read on the other', async () => {
    const before = await get(1, '/lineItems?limit=10000');
    expect((await get(1, '/lineItems?limit=10000')).headers['x-cache']).toBe('HIT');
    const li = { ...before.body.lineItems[0], sourcedId: 'li-replica', title: 'Written on replica 0' };
    const put = await request(replicas[0]!.url)
      .put('/districts/d1/ims/oneroster/v1p1/lineItems/li-replica')
      .set('authorization', `Bearer ${tokens[0]}`)
      .send({ lineItem: li });
    expect([200, 201]).toContain(put.status);
    // The invalidation travels by pub/sub: allow it a bounded moment.
    let seen = false;
    for (let i = 0; i < 50 && !seen; i++) {
      const after = await get(1, '/lineItems?limit=10000');
      seen = after.body.lineItems.some((l: { sourcedId: string }) => l.sourcedId === 'li-replica');
      if (!seen) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe(true);
  });

  it('an admin purge on one replica empties the other replica too', async () => {
    await get(1, '/courses?limit=2');
    expect((await get(1, '/courses?limit=2')).headers['x-cache']).toBe('HIT');
    const purge = await request(replicas[0]!.url).delete('/admin/cache/districts/d1/courses').set('authorization', `Bearer ${ADMIN}`);
    expect(purge.status).toBe(200);
    let status = 'HIT';
    for (let i = 0; i < 50 && status === 'HIT'; i++) {
      status = (await get(1, '/courses?limit=2')).headers['x-cache'] as string;
      if (status === 'HIT') await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe('MISS');
  });
});

describe.runIf(url)('delta sync across replicas', () => {
  let sandbox: TestSandbox;
  const replicas: RunningGateway[] = [];
  let token = '';

  beforeAll(async () => {
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'replica-bearer' }, users: 120, latencyMs: 40 });
    const prefix = uniquePrefix('delta');
    for (let i = 0; i < 2; i++) {
      const config = replicaConfig(sandbox, prefix, { enabled: true, intervalSeconds: 3600 });
      replicas.push(await startGateway(config, { logger: createLogger({ level: 'silent' }) }));
    }
    token = await tokenAt(replicas[0]!.url);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await sandbox?.close();
  });

  const sync = (i: number) => request(replicas[i]!.url).post('/admin/districts/d1/sync').set('authorization', `Bearer ${ADMIN}`);
  const get = (i: number, path: string) => request(replicas[i]!.url).get(`/districts/d1/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${token}`);

  it('one replica polls a district at a time', async () => {
    const [a, b] = await Promise.all([sync(0), sync(1)]);
    expect([a.body.sync.ran, b.body.sync.ran].sort()).toEqual([false, true]);
    expect([a.body.sync.reason, b.body.sync.reason]).toContain('another replica is syncing this district');
  });

  it('a change found by one replica invalidates the page on the other, through the shared watermark', async () => {
    await sync(0); // settle both start-up polls
    const user = sandbox.store.list('users')[5]!;
    expect((await get(1, `/users/${user.sourcedId}`)).headers['x-cache']).toBe('MISS');
    expect((await get(1, `/users/${user.sourcedId}`)).headers['x-cache']).toBe('HIT');
    sandbox.store.update('users', user.sourcedId, { givenName: 'Renamed' });
    const report = (await sync(0)).body.sync;
    expect(report.collections.find((c: { collection: string }) => c.collection === 'users').changes).toBe(1);
    // Replica 1 reads the same watermark: its own poll finds nothing new.
    const again = (await sync(1)).body.sync;
    expect(again.collections.find((c: { collection: string }) => c.collection === 'users').changes).toBe(0);
    let name = '';
    for (let i = 0; i < 50 && name !== 'Renamed'; i++) {
      name = (await get(1, `/users/${user.sourcedId}`)).body.user.givenName;
      if (name !== 'Renamed') await new Promise((r) => setTimeout(r, 20));
    }
    expect(name).toBe('Renamed');
  });
});
