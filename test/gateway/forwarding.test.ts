import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, oauth1Sandbox, oauth2Sandbox, startStack, UPSTREAM_SECRETS, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'springfield', sandbox: oauth1Sandbox() },
      { id: 'shelbyville', sandbox: oauth2Sandbox() },
      { id: 'ogdenville', sandbox: bearerSandbox() },
      { id: 'clamped', sandbox: oauth1Sandbox({ maxPageSize: 7, users: 60 }) },
      { id: 'sha1', sandbox: oauth1Sandbox(), authExtra: { signatureMethod: 'HMAC-SHA1' } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    server: { publicUrl: 'https://gateway.example.com' },
    // Pages fetched as asked: these tests read the exact upstream query of each page. Pages cut
    // from upstream blocks (the default): test/gateway/page-blocks.test.ts.
    cache: { blockSize: 0 },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const get = (path: string) => stack.http.get(path).set('authorization', `Bearer ${token}`);

describe.each([
  ['springfield', '/ims/oneroster/v1p1', 'oauth1'],
  ['shelbyville', '/ims/oneroster/rostering/v1p2', 'oauth2'],
  ['ogdenville', '/ims/oneroster/v1p1', 'bearer'],
  ['sha1', '/ims/oneroster/v1p1', 'oauth1 HMAC-SHA1'],
])('%s (%s, %s)', (id, root) => {
  it('lists users with the upstream total and a Link header at the gateway', async () => {
    const sandbox = stack.sandboxes[id]!;
    const res = await get(`/districts/${id}${root}/users?limit=5&offset=5`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.users).toHaveLength(5);
    const total = sandbox.store.list('users').length;
    expect(res.headers['x-total-count']).toBe(String(total));
    expect(res.headers.link).toContain(`<https://gateway.example.com/districts/${id}${root}/users?limit=5&offset=10>; rel="next"`);
    expect(res.headers.link).toContain('rel="prev"');
    expect(res.headers.link).not.toContain(sandbox.url);
    // GUIDRef hrefs point at the gateway, never at the district's server.
    expect(res.text).not.toContain(sandbox.url);
    const hrefs = JSON.stringify(res.body).match(/"href":"[^"]+"/g) ?? [];
    expect(hrefs.length).toBeGreaterThan(0);
    for (const h of hrefs) expect(h).toContain(`"href":"https://gateway.example.com/districts/${id}/ims/oneroster/`);
  });

  it('forwards filters with quotes and spaces exactly, signed where needed', async () => {
    const sandbox = stack.sandboxes[id]!;
    const someone = sandbox.store.list('users')[3] as { familyName: string };
    const filter = `familyName='${someone.familyName}' AND status='active'`;
    sandbox.resetHits();
    const res = await get(`/districts/${id}${root}/users?filter=${encodeURIComponent(filter)}&fields=sourcedId,familyName&sort=givenName&orderBy=desc`);
    expect(res.status).toBe(200);
    expect(res.body.users.length).toBeGreaterThan(0);
    for (const u of res.body.users) expect(Object.keys(u).sort()).toEqual(['familyName', 'sourcedId']);
    expect(res.body.users.every((u: { familyName: string }) => u.familyName === someone.familyName)).toBe(true);
    const hit = sandbox.hits.at(-1)!;
    expect(hit.authorized).toBe(true);
    const sent = new URLSearchParams(hit.query);
    expect(sent.get('filter')).toBe(filter);
    expect(sent.get('fields')).toBe('sourcedId,familyName');
    expect([...sent.keys()]).toEqual(['filter', 'fields', 'sort', 'orderBy']);
    // RFC 3986 on the wire: spaces as %20, quotes as %27, never '+'.
    expect(hit.query).toContain('%27');
    expect(hit.query).not.toContain('+');
  });

  it('returns single objects and passes an upstream 404 on with its status', async () => {
    const sandbox = stack.sandboxes[id]!;
    const user = sandbox.store.list('users')[0] as { sourcedId: string };
    const ok = await get(`/districts/${id}${root}/users/${encodeURIComponent(user.sourcedId)}`);
    expect(ok.status).toBe(200);
    expect(ok.body.user.sourcedId).toBe(user.sourcedId);
    expect(ok.text).not.toContain(sandbox.url);
    const missing = await get(`/districts/${id}${root}/users/no-such-user`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toMatch(/unknown ?object/);
    expect(JSON.stringify(missing.body)).not.toContain(sandbox.url);
  });
});

describe('page stitching', () => {
  it('fills a page from several clamped upstream pages and counts every upstream call', async () => {
    const sandbox = stack.sandboxes.clamped!;
    const total = sandbox.store.list('users').length;
    sandbox.resetHits();
    const res = await get('/districts/clamped/ims/oneroster/v1p1/users?limit=20&offset=3');
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(20);
    expect(sandbox.hitCount()).toBe(3); // 7 + 7 + 6
    const ids = res.body.users.map((u: { sourcedId: string }) => u.sourcedId);
    expect(new Set(ids).size).toBe(20);
    const direct = sandbox.store.list('users').map((u) => (u as { sourcedId: string }).sourcedId).sort();
    expect(ids).toEqual(direct.slice(3, 23));
    expect(res.headers['x-total-count']).toBe(String(total));
    expect(res.headers.link).toContain('limit=20&offset=23>; rel="next"');
  });

  it('stops at the end of the collection and honours limit=10000', async () => {
    const sandbox = stack.sandboxes.clamped!;
    const total = sandbox.store.list('users').length;
    sandbox.resetHits();
    const res = await get('/districts/clamped/ims/oneroster/v1p1/users?limit=10000');
    expect(res.body.users).toHaveLength(total);
    expect(sandbox.hitCount()).toBe(Math.ceil(total / 7));
    expect(res.headers.link ?? '').not.toContain('rel="next"');
  });

  it('does not stitch when the upstream filled the page', async () => {
    const sandbox = stack.sandboxes.springfield!;
    sandbox.resetHits();
    const res = await get('/districts/springfield/ims/oneroster/v1p1/users?limit=50');
    expect(res.body.users).toHaveLength(50);
    expect(sandbox.hitCount()).toBe(1);
  });
});

describe('request hygiene', () => {
  it('ignores GET bodies and never forwards the client Authorization or hop-by-hop headers', async () => {
    const sandbox = stack.sandboxes.ogdenville!;
    const res = await stack.http
      .get('/districts/ogdenville/ims/oneroster/v1p1/orgs')
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/json')
      .send('{"not":"forwarded"}');
    expect(res.status).toBe(200);
    // The bearer sandbox only accepts its own token: the gateway's token was replaced.
    expect(sandbox.hits.at(-1)!.authorized).toBe(true);
  });

  it('writes gradebook objects through PUT and DELETE', async () => {
    const sandbox = stack.sandboxes.springfield!;
    const first = await get('/districts/springfield/ims/oneroster/v1p1/lineItems?limit=1');
    const li = first.body.lineItems[0] as Record<string, unknown>;
    const body = { lineItem: { ...li, sourcedId: 'li-new-1', title: 'Written through the gateway' } };
    sandbox.resetHits();
    const put = await stack.http
      .put('/districts/springfield/ims/oneroster/v1p1/lineItems/li-new-1')
      .set('authorization', `Bearer ${token}`)
      .send(body);
    expect([200, 201]).toContain(put.status);
    expect(sandbox.hits[0]).toMatchObject({ method: 'PUT', path: '/ims/oneroster/v1p1/lineItems/li-new-1', authorized: true });
    const read = await get('/districts/springfield/ims/oneroster/v1p1/lineItems/li-new-1');
    expect(read.body.lineItem.title).toBe('Written through the gateway');
    const del = await stack.http.delete('/districts/springfield/ims/oneroster/v1p1/lineItems/li-new-1').set('authorization', `Bearer ${token}`);
    expect([200, 204]).toContain(del.status);
    expect((await get('/districts/springfield/ims/oneroster/v1p1/lineItems/li-new-1')).status).toBe(404);
  });

  it('checks write bodies: 415, 413, 400 before any upstream call', async () => {
    const sandbox = stack.sandboxes.springfield!;
    const before = sandbox.hitCount();
    const put = (type: string, body: string) =>
      stack.http.put('/districts/springfield/ims/oneroster/v1p1/results/r1').set('authorization', `Bearer ${token}`).set('content-type', type).send(body);
    expect((await put('text/plain', '{}')).status).toBe(415);
    expect((await put('application/json', '{"result":')).status).toBe(400);
    expect((await put('application/json', '[1,2]')).status).toBe(400);
    expect((await put('application/json', JSON.stringify({ result: { comment: 'x'.repeat(1_100_000) } }))).status).toBe(413);
    expect(sandbox.hitCount()).toBe(before);
  });

  it('keeps upstream secrets and addresses out of every log line', async () => {
    const text = stack.logs.join('');
    expect(text).toContain('"msg":"request"');
    for (const secret of UPSTREAM_SECRETS) expect(text).not.toContain(secret);
    for (const s of Object.values(stack.sandboxes)) expect(text).not.toContain(s.url);
    expect(text).not.toContain(token);
  });
});
