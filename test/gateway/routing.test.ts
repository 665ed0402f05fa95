import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let one: string;
let many: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'springfield', sandbox: oauth1Sandbox() },
      { id: 'shelbyville', sandbox: oauth2Sandbox() },
      { id: 'ogdenville', sandbox: bearerSandbox() },
    ],
    clients: [
      { clientId: 'one', clientSecret: 'one-secret-value', districts: ['springfield'], scopes: ALL_SCOPES },
      { clientId: 'many', clientSecret: 'many-secret-value', districts: ['*'], scopes: ALL_SCOPES },
    ],
  });
  one = await stack.token('one', 'one-secret-value');
  many = await stack.token('many', 'many-secret-value');
});
afterAll(() => stack?.close());

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

describe('district routing', () => {
  it('takes the district from the token when the client has exactly one', async () => {
    const res = await stack.http.get('/ims/oneroster/v1p1/orgs').set(auth(one));
    expect(res.status).toBe(200);
    expect(stack.sandboxes.springfield!.hitCount('/ims/oneroster/v1p1/orgs')).toBeGreaterThan(0);
  });

  it('needs X-District-Id or a /districts/{id} path when the client sees several', async () => {
    const none = await stack.http.get('/ims/oneroster/v1p1/orgs').set(auth(many));
    expect(none.status).toBe(400);
    expect(none.body.statusInfoSet[0].imsx_description).toMatch(/X-District-Id/);
    const header = await stack.http.get('/ims/oneroster/v1p1/orgs').set(auth(many)).set('x-district-id', 'ogdenville');
    expect(header.status).toBe(200);
    expect(stack.sandboxes.ogdenville!.hitCount('/ims/oneroster/v1p1/orgs')).toBe(1);
    const path = await stack.http.get('/districts/shelbyville/ims/oneroster/rostering/v1p2/orgs').set(auth(many));
    expect(path.status).toBe(200);
    expect(stack.sandboxes.shelbyville!.hitCount('/ims/oneroster/rostering/v1p2/orgs')).toBe(1);
    const unknown = await stack.http.get('/ims/oneroster/v1p1/orgs').set(auth(many)).set('x-district-id', 'atlantis');
    expect(unknown.status).toBe(404);
  });

  it('answers the path version from a district of the other version, and 501 for data that version lacks', async () => {
    const res = await stack.http.get('/districts/springfield/ims/oneroster/rostering/v1p2/users?limit=3').set(auth(many));
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(3);
    expect(res.body.users[0].roles).toBeInstanceOf(Array);
    expect(res.body.users[0].role).toBeUndefined();
    const scales = await stack.http.get('/districts/springfield/ims/oneroster/gradebook/v1p2/scoreScales').set(auth(many));
    expect(scales.status).toBe(501);
    expect(scales.body).toMatchObject({ imsx_codeMajor: 'unsupported' });
    expect(scales.body.imsx_description).toMatch(/v1p1/);
  });

  it('answers 404 for unknown endpoints and 405 for wrong methods, in the path version shape', async () => {
    const unknown = await stack.http.get('/ims/oneroster/v1p1/classes/c1/enrollments').set(auth(one));
    expect(unknown.status).toBe(404);
    expect(unknown.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknown object');
    const notOneRoster = await stack.http.get('/ims/oneroster/v9/users').set(auth(one));
    expect(notOneRoster.status).toBe(404);
    const v12 = await stack.http.get('/districts/shelbyville/ims/oneroster/gradebook/v1p2/users').set(auth(many));
    expect(v12.status).toBe(404);
    expect(v12.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknownobject');
    const method = await stack.http.post('/ims/oneroster/v1p1/users').set(auth(one)).send({});
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('GET');
  });

  it('rejects bad query values before any upstream call', async () => {
    const before = stack.sandboxes.springfield!.hitCount();
    for (const q of ['limit=0', 'limit=abc', 'offset=-3', 'orderBy=sideways', 'limit=1&limit=2', 'filter=%E0%A4%A', 'limit=10001']) {
      const res = await stack.http.get(`/ims/oneroster/v1p1/users?${q}`).set(auth(one));
      expect(res.status, q).toBe(400);
      expect(res.body.statusInfoSet).toHaveLength(1);
    }
    expect(stack.sandboxes.springfield!.hitCount()).toBe(before);
  });
});

describe('gateway routes', () => {
  it('lists the districts the caller may see, without secrets', async () => {
    const mine = await stack.http.get('/districts').set(auth(one));
    expect(mine.body.districts).toEqual([
      {
        id: 'springfield',
        name: 'District springfield',
        source: 'config',
        version: 'v1p1',
        authType: 'oauth1',
        health: expect.any(Object),
        circuit: { state: 'closed', consecutiveFailures: 0, opens: 0 },
        cache: {
          HIT: expect.any(Number),
          MISS: expect.any(Number),
          STALE: expect.any(Number),
          BYPASS: expect.any(Number),
          MIRROR: 0,
          hitRatio: expect.anything(),
          entries: expect.any(Number),
          bytes: expect.any(Number),
        },
        deltaSync: { enabled: false },
        mirror: { state: 'off', version: null, publishedAt: null, agreedAt: null, ageSeconds: null, counts: {}, lastFullPull: null, lastRefusal: null, lastError: null, pulling: false, changes: null },
      },
    ]);
    const all = await stack.http.get('/districts').set(auth(many));
    expect(all.body.districts.map((d: { id: string; authType: string }) => `${d.id}:${d.authType}`)).toEqual([
      'springfield:oauth1',
      'shelbyville:oauth2',
      'ogdenville:bearer',
    ]);
    expect(JSON.stringify(all.body)).not.toMatch(/secret|token|127\.0\.0\.1/i);
    expect((await stack.http.get('/districts')).status).toBe(401);
  });

  it('counts the pages each district holds in memory', async () => {
    const caches = async () =>
      Object.fromEntries(((await stack.http.get('/districts').set(auth(many))).body.districts as Array<{ id: string; cache: { entries: number; bytes: number } }>).map((d) => [d.id, d.cache]));
    const before = await caches();
    const paths = ['/ims/oneroster/v1p1/courses?limit=2', '/ims/oneroster/v1p1/courses?limit=3', '/ims/oneroster/v1p1/terms'];
    for (const p of paths) expect((await stack.http.get(p).set(auth(many)).set('x-district-id', 'ogdenville')).status).toBe(200);
    const after = await caches();
    // The three pages, and the two upstream blocks (courses, terms) they were cut from.
    expect(after.ogdenville!.entries - before.ogdenville!.entries).toBe(5);
    expect(after.ogdenville!.bytes).toBeGreaterThan(before.ogdenville!.bytes + 300);
    // Another district's pages are counted under it, not here.
    expect(after.springfield).toEqual(before.springfield);
  });

  it('answers health and readiness without a token', async () => {
    expect((await stack.http.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await stack.http.get('/readyz')).body).toEqual({ status: 'ready' });
  });

  it('echoes a well-formed X-Request-Id and replaces a bad one', async () => {
    const res = await stack.http.get('/ims/oneroster/v1p1/orgs').set(auth(one)).set('x-request-id', 'trace-abc.123');
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
    const bad = await stack.http.get('/healthz').set('x-request-id', 'bad id with spaces');
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await stack.http.get('/nothing/here');
    expect(res.status).toBe(404);
    expect(res.body.imsx_codeMajor).toBe('failure');
  });
});
