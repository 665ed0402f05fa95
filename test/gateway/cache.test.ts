import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

// A clock the test moves: freshness and staleness without sleeping.
let now = Date.now();
const clock = () => now;
const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;
let token: string;
let refresher: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      // One attempt: the stale-if-error tests need a fault to reach the cache as it is.
      { id: 'springfield', sandbox: oauth1Sandbox({ latencyMs: 30 }), extra: { upstream: { retry: { maxAttempts: 1 } } } },
      { id: 'shelbyville', sandbox: bearerSandbox() },
    ],
    clients: [
      { clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES },
      { clientId: 'neighbour', clientSecret: 'neighbour-secret', districts: ['shelbyville'], scopes: ALL_SCOPES },
      { clientId: 'grades', clientSecret: 'grades-secret-val', districts: ['springfield'], scopes: ['gradebook.readonly'] },
      { clientId: 'ops', clientSecret: 'ops-secret-value', districts: ['springfield'], scopes: ALL_SCOPES, allowNoCache: true } as never,
    ],
    cache: { ttlSeconds: 60, staleSeconds: 600, negativeTtlSeconds: 30 },
    admin: { token: ADMIN },
    now: clock,
  });
  token = await stack.token('app', 'app-secret-value');
  refresher = await stack.token('ops', 'ops-secret-value');
});
afterAll(() => stack?.close());

const sandbox = () => stack.sandboxes.springfield!;
const get = (path: string, t = token) => stack.http.get(`/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${t}`);
const admin = (method: 'delete' | 'post', path: string) => stack.http[method](path).set('authorization', `Bearer ${ADMIN}`);

describe('read-through cache', () => {
  it('answers a repeated read from memory: MISS then HIT, with Age and Cache-Control: private', async () => {
    sandbox().resetHits();
    const first = await get('/orgs?limit=5&offset=0');
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.headers['cache-control']).toBe('private');
    expect(first.headers.age).toBeUndefined();
    // What the answer cost the district: one upstream request.
    expect(first.headers['server-timing']).toMatch(/^upstream;dur=\d+\.\d;desc="1"$/);
    now += 3_000;
    const second = await get('/orgs?offset=0&limit=5');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers.age).toBe('3');
    expect(second.headers['server-timing']).toBeUndefined();
    expect(second.text).toBe(first.text);
    expect(second.headers['x-total-count']).toBe(first.headers['x-total-count']);
    expect(second.headers.link).toBe(first.headers.link);
    expect(sandbox().hitCount()).toBe(1);
  });

  it('checks token, district and scope before answering from the cache, and logs the hit', async () => {
    const path = '/ims/oneroster/v1p1/courses?limit=3';
    await get('/courses?limit=3');
    const hit = await get('/courses?limit=3').set('x-request-id', 'req-cached-1');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-request-id']).toBe('req-cached-1');
    const line = stack.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === 'req-cached-1');
    expect(line).toMatchObject({ msg: 'request', route: 'v1p1 GET /courses', clientId: 'app', district: 'springfield', status: 200, cache: 'HIT' });

    const neighbour = await stack.token('neighbour', 'neighbour-secret');
    const grades = await stack.token('grades', 'grades-secret-val');
    const refused = [
      [await stack.http.get(path), 401],
      [await get('/courses?limit=3', `${token.slice(0, -2)}xx`), 401],
      [await stack.http.get(path).set('authorization', `Bearer ${neighbour}`).set('x-district-id', 'springfield'), 403],
      [await stack.http.get(`/districts/springfield${path}`).set('authorization', `Bearer ${neighbour}`), 403],
      [await get('/courses?limit=3', grades), 403],
      [await stack.http.get(`/elsewhere${path}`).set('authorization', `Bearer ${token}`), 404],
    ] as const;
    for (const [res, status] of refused) {
      expect(res.status).toBe(status);
      expect(res.headers['x-cache']).toBeUndefined();
      expect(res.body.statusInfoSet?.[0]?.imsx_codeMajor ?? res.body.imsx_codeMajor).toBe('failure');
      expect(res.text).not.toContain('"courses"');
    }
  });

  it('sends one upstream request for many identical concurrent cold reads', async () => {
    sandbox().resetHits();
    // A query no earlier test read (its upstream blocks are cold too).
    const results = await Promise.all(Array.from({ length: 25 }, () => get(`/courses?limit=7&filter=${encodeURIComponent("status='active'")}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect(sandbox().hitCount('/ims/oneroster/v1p1/courses')).toBe(1);
    // Requests that arrive after the page landed are hits; none went upstream on its own.
    expect(results.every((r) => ['MISS', 'HIT'].includes(r.headers['x-cache'] as string))).toBe(true);
    expect(results.filter((r) => r.headers['x-cache'] === 'MISS').length).toBeGreaterThan(1);
  });

  it('serves a stale page while one background refresh runs, then the refreshed page', async () => {
    const first = await get('/academicSessions?limit=3');
    expect(first.headers['x-cache']).toBe('MISS');
    now += 61_000;
    sandbox().resetHits();
    const stale = await Promise.all([get('/academicSessions?limit=3'), get('/academicSessions?limit=3'), get('/academicSessions?limit=3')]);
    expect(stale.map((r) => r.headers['x-cache'])).toEqual(['STALE', 'STALE', 'STALE']);
    expect(stale[0]!.headers.age).toBe('61');
    for (let i = 0; i < 100 && sandbox().hitCount() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(sandbox().hitCount()).toBe(1);
    const after = await get('/academicSessions?limit=3');
    expect(after.headers['x-cache']).toBe('HIT');
    expect(after.headers.age).toBe('0');
  });

  it('caches a single-object 404 briefly, and never caches errors', async () => {
    sandbox().resetHits();
    expect((await get('/users/nobody-here')).status).toBe(404);
    const again = await get('/users/nobody-here');
    expect(again.status).toBe(404);
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknown object');
    expect(sandbox().hitCount()).toBe(1);
    now += 31_000;
    await get('/users/nobody-here');
    expect(sandbox().hitCount()).toBe(2);

    sandbox().resetHits();
    sandbox().injectFault({ kind: 'status', status: 500 });
    expect((await get('/classes?limit=4')).status).toBe(502);
    sandbox().injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '3' } });
    expect((await get('/classes?limit=4')).status).toBe(429);
    const ok = await get('/classes?limit=4');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-cache']).toBe('MISS');
    expect(sandbox().hitCount()).toBe(3);
  });

  it('honours Cache-Control: no-cache only for clients allowed to, and a failed refresh keeps the good entry', async () => {
    await get('/demographics?limit=2');
    sandbox().resetHits();
    const ignored = await get('/demographics?limit=2').set('cache-control', 'no-cache');
    expect(ignored.headers['x-cache']).toBe('HIT');
    const forced = await get('/demographics?limit=2', refresher).set('cache-control', 'no-cache');
    expect(forced.headers['x-cache']).toBe('BYPASS');
    expect(sandbox().hitCount()).toBe(1);
    sandbox().injectFault({ kind: 'status', status: 503 });
    expect((await get('/demographics?limit=2', refresher).set('cache-control', 'no-cache')).status).toBe(503);
    const kept = await get('/demographics?limit=2');
    expect(kept.headers['x-cache']).toBe('HIT');
    expect(kept.text).toBe(forced.text);
  });
});

describe('invalidation', () => {
  it('shows a gradebook write on the next read', async () => {
    const before = await get('/lineItems?limit=10000');
    expect((await get('/lineItems?limit=10000')).headers['x-cache']).toBe('HIT');
    const li = { ...before.body.lineItems[0], sourcedId: 'li-cache-test', title: 'Fresh from a write' };
    const put = await stack.http.put('/ims/oneroster/v1p1/lineItems/li-cache-test').set('authorization', `Bearer ${token}`).send({ lineItem: li });
    expect([200, 201]).toContain(put.status);
    const after = await get('/lineItems?limit=10000');
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body.lineItems.map((l: { sourcedId: string }) => l.sourcedId)).toContain('li-cache-test');
    const del = await stack.http.delete('/ims/oneroster/v1p1/lineItems/li-cache-test').set('authorization', `Bearer ${token}`);
    expect([200, 204]).toContain(del.status);
    expect((await get('/lineItems/li-cache-test')).status).toBe(404);
  });

  it('serves the old page as STALE when an invalidated entry cannot be refreshed (stale-if-error)', async () => {
    const good = await get('/users?limit=4');
    const purge = await admin('delete', '/admin/cache/districts/springfield/users');
    expect(purge.status).toBe(200);
    sandbox().injectFault({ kind: 'reset' });
    const res = await get('/users?limit=4');
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('STALE');
    expect(res.text).toBe(good.text);
  });

  it('guards the admin API with its own token', async () => {
    expect((await stack.http.delete('/admin/cache/districts/springfield')).status).toBe(401);
    expect((await stack.http.delete('/admin/cache/districts/springfield').set('authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await admin('delete', '/admin/cache/districts/nowhere')).status).toBe(404);
    expect((await admin('delete', '/admin/cache/districts/springfield/widgets')).status).toBe(404);
    await get('/enrollments?limit=3');
    expect((await get('/enrollments?limit=3')).headers['x-cache']).toBe('HIT');
    expect((await admin('delete', '/admin/cache/districts/springfield')).body).toEqual({ purged: { district: 'springfield' } });
    expect((await get('/enrollments?limit=3')).headers['x-cache']).toBe('MISS');
  });
});

describe('freshness overrides', () => {
  let tuned: Stack;
  let t = Date.now();
  let tok: string;

  beforeAll(async () => {
    tuned = await startStack({
      districts: [
        { id: 'springfield', sandbox: oauth1Sandbox(), extra: { cache: { ttlSeconds: 20, collections: { courses: { ttlSeconds: 5 } } } } },
        { id: 'shelbyville', sandbox: oauth1Sandbox({ seed: 3 }) },
      ],
      clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
      cache: { ttlSeconds: 100, staleSeconds: 0, collections: { enrollments: { ttlSeconds: 0, staleSeconds: 0 }, orgs: { ttlSeconds: 50 } } },
      now: () => t,
    });
    tok = await tuned.token('app', 'app-secret-value');
  });
  afterAll(() => tuned?.close());

  const status = async (district: string, path: string) =>
    (await tuned.http.get(`/districts/${district}/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${tok}`)).headers['x-cache'];

  it('applies the most specific setting: district+collection, district, collection, global', async () => {
    const pages: Array<[string, string]> = [
      ['springfield', '/courses?limit=1'], // 5 s (district + collection)
      ['springfield', '/classes?limit=1'], // 20 s (district)
      ['shelbyville', '/orgs?limit=1'], // 50 s (collection)
      ['shelbyville', '/classes?limit=1'], // 100 s (global)
    ];
    for (const [d, p] of pages) expect(await status(d, p)).toBe('MISS');
    const after = async (seconds: number) => {
      t += seconds * 1000;
      return Promise.all(pages.map(([d, p]) => status(d, p)));
    };
    expect(await after(6)).toEqual(['MISS', 'HIT', 'HIT', 'HIT']);
    expect(await after(15)).toEqual(['MISS', 'MISS', 'HIT', 'HIT']);
    expect(await after(35)).toEqual(['MISS', 'MISS', 'MISS', 'HIT']);
    expect(await after(60)).toEqual(['MISS', 'MISS', 'MISS', 'MISS']);
  });

  it('turns caching off for a collection with ttl and stale at 0', async () => {
    expect(await status('shelbyville', '/enrollments?limit=1')).toBe('BYPASS');
    expect(await status('shelbyville', '/enrollments?limit=1')).toBe('BYPASS');
  });
});
