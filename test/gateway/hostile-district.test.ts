// One hostile district must cost the gateway a bounded amount of memory and time, and nothing
// at all for the other districts. A real gateway serves a healthy sandbox district next to two
// districts on a hostile fake server (bearer, and OAuth2 with its token URL there too), whose
// answers a test switches between huge pages, endless bodies, ignored offsets, redirects,
// lying Content-Lengths and unusable tokens.
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { startHostileDistrict, type HostileDistrict } from '../helpers/hostile-district.js';
import { ALL_SCOPES, TOKEN_SECRET, tokenAt } from '../helpers/stack.js';
import { startLocalServer, type LocalServer } from '../upstream/local-server.js';

const ADMIN = 'admin-token-0123456789abcdefghij';
const MiB = 1024 * 1024;
const TIMEOUT_MS = 4000;
const HOSTILE_SECRETS = ['hostile-bearer-secret', 'hostile-oauth-secret'];

let hostile: HostileDistrict;
let elsewhere: LocalServer;
let sandbox: TestSandbox;
let gateway: RunningGateway;
let token: string;
const logs: string[] = [];

// Small caps so the test moves megabytes, not hundreds of them; no breaker, so each answer is
// the district's own; retries as configured by default (3 attempts), fast.
const hostileUpstream = {
  maxBodyBytes: MiB,
  timeoutMs: TIMEOUT_MS,
  retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxTotalMs: 2000 },
  breaker: { enabled: false },
};

beforeAll(async () => {
  hostile = await startHostileDistrict();
  // The OAuth2 district's first token is unusable from the start, so no good token gets cached first.
  hostile.setTokenMode({ kind: 'crlf' });
  elsewhere = await startLocalServer();
  sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'healthy-bearer-secret' }, users: 60 });
  const raw = {
    server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 1000 },
    auth: { tokenSecret: TOKEN_SECRET, tokenTtlSeconds: 3600, clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }] },
    districts: [
      { id: 'healthy', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'healthy-bearer-secret' } },
      { id: 'hostile', version: 'v1p1', baseUrl: hostile.baseUrl, auth: { type: 'bearer', token: 'hostile-bearer-secret' }, upstream: hostileUpstream },
      {
        id: 'hostile-oauth',
        version: 'v1p1',
        baseUrl: hostile.baseUrl,
        auth: { type: 'oauth2', tokenUrl: hostile.tokenUrl, clientId: 'gw', clientSecret: 'hostile-oauth-secret' },
        upstream: hostileUpstream,
      },
    ],
    // Delta sync on (for its paging guard), driven through the admin API.
    cache: { ttlSeconds: 3600, deltaSync: { enabled: true, intervalSeconds: 3600, overlapSeconds: 60, pageSize: 100 } },
    admin: { token: ADMIN },
  };
  const config = parseConfig(JSON.stringify(raw), {}, 'hostile-district-test');
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  gateway = await startGateway(config, { logger: createLogger({ level: 'debug', destination }) });
  token = await tokenAt(gateway.url);
  // The start-up delta poll runs in the background; joining it keeps its hits out of the tests.
  for (const id of ['healthy', 'hostile', 'hostile-oauth']) await adminSync(id);
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([hostile?.close(), elsewhere?.close(), sandbox?.close()]);
});
beforeEach(() => {
  hostile.reset();
  elsewhere.hits.length = 0;
  hostile.setMode({ kind: 'ok' });
});

const get = (district: string, path: string) => request(gateway.url).get(`/districts/${district}/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${token}`);
function adminSync(id: string) {
  return request(gateway.url).post(`/admin/districts/${id}/sync`).set('authorization', `Bearer ${ADMIN}`);
}

/** A 502 in the OneRoster 1.1 status-info envelope that says nothing about where the district lives. */
function expectSafe502(res: request.Response, code: RegExp) {
  expect(res.status).toBe(502);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  const info = res.body.statusInfoSet?.[0];
  expect(info).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
  expect(info.imsx_description).toMatch(code);
  for (const leak of ['127.0.0.1', String(hostile.port), String(elsewhere.port), 'localhost', ...HOSTILE_SECRETS]) expect(res.text).not.toContain(leak);
}

/** Healthy-district reads while `during` runs: every one must succeed. */
async function healthyMeanwhile<T>(during: PromiseLike<T>): Promise<{ result: T; healthy: number[] }> {
  let done = false;
  const statuses: number[] = [];
  const poller = (async () => {
    for (let i = 0; !done || i < 3; i++) {
      statuses.push((await get('healthy', `/users?limit=5&offset=${i % 10}`)).status);
    }
  })();
  const result = await Promise.resolve(during).finally(() => (done = true));
  await poller;
  return { result, healthy: statuses };
}

describe('a hostile district', () => {
  it('answering a huge page: 502 status-info, read no further than maxBodyBytes, not retried; the healthy district keeps answering', async () => {
    hostile.setMode({ kind: 'huge', mb: 40 });
    const { result: res, healthy } = await healthyMeanwhile(get('hostile', '/users?limit=10000'));
    expectSafe502(res, /maxBodyBytes/);
    expect(hostile.dataHits()).toBe(1);
    // The gateway hung up at the cap; only what sat in socket buffers went beyond it.
    expect(hostile.bytesSent()).toBeLessThan(12 * MiB);
    expect(healthy.length).toBeGreaterThanOrEqual(3);
    expect(healthy.every((s) => s === 200)).toBe(true);
  });

  it('sending a gzip bomb (a small answer that decodes to 64 MiB): 502 at the decoded cap, not retried, the healthy district unharmed', async () => {
    // (How little the gateway holds meanwhile: test/upstream/content-decoding.test.ts.)
    hostile.setMode({ kind: 'gzipBomb', mb: 64 });
    const { result: res, healthy } = await healthyMeanwhile(get('hostile', '/users?limit=9996'));
    expectSafe502(res, /maxBodyBytes/);
    expect(hostile.bytesSent()).toBeLessThan(MiB);
    expect(hostile.dataHits()).toBe(1);
    expect(healthy.every((s) => s === 200)).toBe(true);
  });

  it('declaring a Content-Length over the cap: refused before the body is read', async () => {
    hostile.setMode({ kind: 'huge', mb: 300, declare: true });
    const t0 = performance.now();
    const res = await get('hostile', '/users?limit=9999');
    expectSafe502(res, /maxBodyBytes/);
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS / 2);
    expect(hostile.bytesSent()).toBeLessThan(12 * MiB);
  });

  it('streaming an endless body: 502 within the timeout, the healthy district unharmed', async () => {
    hostile.setMode({ kind: 'endless' });
    const t0 = performance.now();
    const { result: res, healthy } = await healthyMeanwhile(get('hostile', '/users?limit=9997'));
    expectSafe502(res, /maxBodyBytes/);
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS);
    await expect.poll(() => hostile.cutByClient(), { timeout: 2000 }).toBeGreaterThanOrEqual(1);
    expect(healthy.every((s) => s === 200)).toBe(true);
  });

  it('ignoring offset with id-less records: fetched twice for a page, not maxStitchPages times', async () => {
    hostile.setMode({ kind: 'ignoresOffset', records: 50 });
    const res = await get('hostile', '/users?limit=5000');
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(50);
    expect(hostile.dataHits()).toBe(2);
  });

  it('ignoring offset without a total: a delta sync asks each collection at most twice', async () => {
    hostile.setMode({ kind: 'ignoresOffset', records: 100 });
    const res = await adminSync('hostile');
    expect(res.status).toBe(200);
    const collections = res.body.sync.collections as Array<{ collection: string; outcome: string; pages: number }>;
    expect(collections.length).toBeGreaterThan(3);
    // Page one, then the same page again: stop.
    expect(collections.map((c) => [c.collection, c.outcome, c.pages])).toEqual(collections.map((c) => [c.collection, 'synced', 2]));
    expect(hostile.dataHits()).toBe(2 * collections.length);
    expect(logs.filter((l) => l.includes('delta sync reads its first page only')).length).toBe(collections.length);
  });

  it('inventing changes without end or total: a delta sync stops at 50,000 records and invalidates the whole collection', async () => {
    // 1000 fresh ids an answer, whatever the limit: the bound is 50 requests away, not 10,000.
    hostile.setMode({ kind: 'freshIds', collection: 'users', records: 1000 });
    const cached = ['/users/fresh-probe', '/users?limit=3'];
    for (const p of cached) expect((await get('hostile', p)).headers['x-cache'], p).toBe('MISS');
    for (const p of cached) expect((await get('hostile', p)).headers['x-cache'], p).toBe('HIT');
    hostile.reset();
    const usersPolls = () =>
      hostile.hits.filter((h) => {
        const url = new URL(h.url, 'http://x');
        return url.pathname.endsWith('/users') && url.searchParams.has('filter');
      }).length;

    for (let run = 1; run <= 2; run++) {
      const res = await adminSync('hostile');
      expect(res.status).toBe(200);
      const users = (res.body.sync.collections as Array<{ collection: string }>).find((c) => c.collection === 'users');
      expect(users).toMatchObject({ outcome: 'synced', changes: 50_000, pages: 50, collectionWide: true });
      expect(usersPolls()).toBe(50 * run);
      // The single user's page depends on no tag a record-level change of another id bumps: only c:users.
      for (const p of cached) expect((await get('hostile', p)).headers['x-cache'], p).toBe('MISS');
    }
    expect(logs.filter((l) => l.includes('whole collection was invalidated') && l.includes('"collection":"users"')).length).toBe(1);
  });

  it('lying about its answer: a redirect is not followed and a Content-Length that never arrives is a 502, not a wait', async () => {
    hostile.setMode({ kind: 'redirect', location: `${elsewhere.origin}/steal` });
    // Each query its own (earlier tests left users' upstream blocks cached).
    const fresh = (n: number) => `/users?limit=${n}&filter=${encodeURIComponent(`givenName='lying-${n}'`)}`;
    expectSafe502(await get('hostile', fresh(7)), /HTTP 302/);
    expect(elsewhere.hits).toHaveLength(0);

    // Declares 100 MiB, sends 10 bytes, hangs up: refused at once for the size it claims.
    hostile.setMode({ kind: 'lyingLength', declared: 100 * MiB, sent: 10 });
    const t0 = performance.now();
    expectSafe502(await get('hostile', fresh(8)), /maxBodyBytes/);
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS / 2);

    // Declares 5000 bytes, sends 10, hangs up: a broken answer (retried like any reset).
    hostile.setMode({ kind: 'lyingLength', declared: 5000, sent: 10 });
    expectSafe502(await get('hostile', fresh(9)), /could not be reached/);
    expect(elsewhere.hits).toHaveLength(0);
  });

  it('whose token endpoint answers an unusable token: refused (502) and asked again on the next request', async () => {
    hostile.setTokenMode({ kind: 'crlf' });
    const refused = await get('hostile-oauth', '/users?limit=3');
    expectSafe502(refused, /authenticate/);
    expect(hostile.tokenHits()).toBe(1);
    expect(hostile.dataHits()).toBe(0);

    hostile.setTokenMode({ kind: 'good' });
    const ok = await get('hostile-oauth', '/users?limit=3');
    expect(ok.status).toBe(200);
    expect(hostile.tokenHits()).toBe(2);
    const data = hostile.hits.filter((h) => h.kind === 'data');
    expect(data).toHaveLength(1);
    expect(data[0]!.authorization).toMatch(/^Bearer good-token-\d+$/);
    // Nothing of the refused token went out or came back.
    expect(ok.text + refused.text).not.toContain('X-Injected');
  });
});
