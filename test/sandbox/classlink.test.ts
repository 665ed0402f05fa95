// The fake ClassLink: discovery API, server details, and the OneRoster proxy in front of sandboxes.

import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startClassLinkFake, type ClassLinkFake, type ClassLinkTenant } from '../../src/sandbox/classlink.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { enc, readGot, type Got } from './helpers.js';

const DEV = 'developer-api-key-123';
const APP_A = 'MoYPlyQWmG0%3D'; // as ClassLink sends it
const APP_B = 'Qm9iYnk%2Fxyz';
const BEARER_A = 'tenant-a-bearer';

let sbA: TestSandbox;
let sbB: TestSandbox;
let cl: ClassLinkFake;

const tenantA = (over: Partial<ClassLinkTenant> = {}): ClassLinkTenant => ({
  tenantId: 2, tenantName: 'ClassLink Demo', applicationId: APP_A, bearer: BEARER_A,
  upstream: sbA, upstreamToken: 'upstream-a', direct: { clientId: 'cl-direct-a', clientSecret: 'cl-secret-a' }, ...over,
});
const tenantB = (over: Partial<ClassLinkTenant> = {}): ClassLinkTenant => ({
  tenantId: 7, tenantName: 'Shelbyville USD', applicationId: APP_B, bearer: null, upstream: sbB, upstreamToken: 'upstream-b', ...over,
});

beforeAll(async () => {
  [sbA, sbB] = await Promise.all([
    startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'upstream-a' }, users: 60, seed: 1 }),
    startSandbox({ version: 'v1p2', auth: { type: 'bearer', token: 'upstream-b' }, users: 40, seed: 2 }),
  ]);
  cl = await startClassLinkFake({ developerToken: DEV, tenants: [tenantA(), tenantB()] });
});
afterAll(async () => {
  await cl.close();
  await Promise.all([sbA.close(), sbB.close()]);
});
beforeEach(() => {
  cl.setTenants([tenantA(), tenantB()]);
  cl.resetHits();
  sbA.resetHits();
  sbA.clearFaults();
});

async function get(url: string, token: string | null, init: RequestInit = {}): Promise<Got> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return readGot(await fetch(url, { ...init, headers }));
}
const dataA = (rest: string): string => `${cl.url}/${APP_A}/ims/oneroster/v1p1${rest}`;
const dataB = (rest: string): string => `${cl.url}/${APP_B}/ims/oneroster/rostering/v1p2${rest}`;

describe('discovery: GET /applications', () => {
  it('lists every tenant in ClassLink shape with string flags', async () => {
    const got = await get(`${cl.url}/applications`, DEV);
    expect(got.status).toBe(200);
    expect(got.body.status).toBe(1);
    expect(got.body.applications).toEqual([
      { id: 1002, tenant_name: 'ClassLink Demo', tenant_id: 2, application_id: 57, bearer: BEARER_A, name: expect.any(String), oneroster_application_id: APP_A, enabled: 'true', tenant_status: 'Active' },
      { id: 1007, tenant_name: 'Shelbyville USD', tenant_id: 7, application_id: 57, bearer: null, name: expect.any(String), oneroster_application_id: APP_B, enabled: 'true', tenant_status: 'Active' },
    ]);
    expect(got.headers.get('x-total-count')).toBeNull();
    expect(got.headers.get('link')).toBeNull();
  });

  it('needs the developer token', async () => {
    for (const token of [null, 'wrong', BEARER_A]) {
      const got = await get(`${cl.url}/applications`, token);
      expect(got.status).toBe(401);
      expect(got.body).toEqual({ status: 0, error: 'unauthorized' });
    }
  });

  it('honours limit and offset', async () => {
    const page = async (q: string) => (await get(`${cl.url}/applications?${q}`, DEV)).body.applications.map((a: { tenant_id: number }) => a.tenant_id);
    expect(await page('limit=1')).toEqual([2]);
    expect(await page('limit=1&offset=1')).toEqual([7]);
    expect(await page('offset=2')).toEqual([]);
  });

  it('reports disabled and inactive tenants by string flags', async () => {
    cl.setTenants([tenantA({ enabled: false }), tenantB({ status: 'Inactive' })]);
    const apps = (await get(`${cl.url}/applications`, DEV)).body.applications;
    expect(apps.map((a: { enabled: string; tenant_status: string }) => [a.enabled, a.tenant_status])).toEqual([['false', 'Active'], ['true', 'Inactive']]);
  });
});

describe('GET /applications/{id}/server', () => {
  it('returns direct-access details with a host-level endpoint_url', async () => {
    const got = await get(`${cl.url}/applications/${APP_A}/server`, DEV);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ status: 1, server: { client_id: 'cl-direct-a', client_secret: 'cl-secret-a', endpoint_url: sbA.url }, message: '' });
    expect(sbA.baseUrl).toBe(`${got.body.server.endpoint_url}/ims/oneroster`);
    const b = await get(`${cl.url}/applications/${APP_B}/server`, DEV);
    expect(b.body.server).toEqual({ client_id: '', client_secret: '', endpoint_url: sbB.url });
  });

  it('404 for unknown (or re-encoded) ids, 401 without the developer token', async () => {
    expect((await get(`${cl.url}/applications/nope/server`, DEV)).status).toBe(404);
    expect((await get(`${cl.url}/applications/MoYPlyQWmG0%253D/server`, DEV)).status).toBe(404);
    expect((await get(`${cl.url}/applications/${APP_A}/server`, BEARER_A)).status).toBe(401);
  });
});

describe('proxy data calls', () => {
  it('tenant with its own bearer: that bearer works, the developer token does not', async () => {
    const ok = await get(dataA('/users?limit=5'), BEARER_A);
    expect(ok.status).toBe(200);
    expect(ok.body.users).toHaveLength(5);
    expect(ok.headers.get('x-total-count')).toBe(String(sbA.store.list('users').length));
    for (const token of [DEV, null, 'nonsense']) {
      const denied = await get(dataA('/users'), token);
      expect(denied.status).toBe(401);
      expect(denied.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_codeMinor: 'unauthorized' });
    }
    expect(sbA.hitCount()).toBe(1); // rejected calls never reach the district
  });

  it('tenant with a null bearer: the developer token works, others do not', async () => {
    const ok = await get(dataB('/orgs'), DEV);
    expect(ok.status).toBe(200);
    expect(ok.body.orgs.length).toBeGreaterThan(0);
    expect((await get(dataB('/orgs'), BEARER_A)).status).toBe(401);
    expect((await get(dataB('/orgs'), null)).status).toBe(401);
  });

  it('matches the application id verbatim: double-encoded and decoded forms are 404', async () => {
    for (const id of ['MoYPlyQWmG0%253D', 'MoYPlyQWmG0=', 'moyplyqwmg0%3D']) {
      const got = await get(`${cl.url}/${id}/ims/oneroster/v1p1/users`, BEARER_A);
      expect(got.status).toBe(404);
    }
    expect((await get(`${cl.url}/Qm9iYnk%252Fxyz/ims/oneroster/rostering/v1p2/orgs`, DEV)).status).toBe(404);
    expect(sbA.hitCount()).toBe(0);
  });

  it('passes the raw query through unchanged', async () => {
    const query = `filter=${enc("role='teacher'")}&limit=3&fields=sourcedId,role`;
    const got = await get(dataA(`/users?${query}`), BEARER_A);
    expect(got.status).toBe(200);
    expect(got.body.users.every((u: { role: string }) => u.role === 'teacher')).toBe(true);
    expect(sbA.hits.at(-1)).toMatchObject({ path: '/ims/oneroster/v1p1/users', query, authorized: true });
  });

  it('disabled or inactive tenants get 403', async () => {
    cl.setTenants([tenantA({ enabled: false }), tenantB({ status: 'Inactive' })]);
    const a = await get(dataA('/users'), BEARER_A);
    expect(a.status).toBe(403);
    expect(a.body.statusInfoSet[0].imsx_codeMinor).toBe('forbidden');
    expect((await get(dataB('/orgs'), DEV)).status).toBe(403);
  });

  it('forwards writes with body and content type', async () => {
    const url = dataA('/categories/cat-proxy-1');
    const put = await get(url, BEARER_A, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ category: { sourcedId: 'cat-proxy-1', status: 'active', title: 'Via ClassLink' } }),
    });
    expect(put.status).toBe(201);
    expect(sbA.store.get('categories', 'cat-proxy-1')).toBeDefined();
    expect((await get(url, BEARER_A, { method: 'DELETE' })).status).toBe(204);
    expect((await get(url, BEARER_A)).status).toBe(404);
  });

  it('rewrites Link headers to the proxy path, and they can be followed', async () => {
    const got = await get(dataA('/users?limit=10&offset=10'), BEARER_A);
    const link = got.headers.get('link') ?? '';
    expect(link).not.toContain(sbA.url);
    const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
    expect(next).toBe(`${cl.url}/${APP_A}/ims/oneroster/v1p1/users?limit=10&offset=20`);
    expect(link).toContain(`<${cl.url}/${APP_A}/ims/oneroster/v1p1/users?limit=10&offset=0>; rel="first"`);
    const page = await get(next as string, BEARER_A);
    expect(page.status).toBe(200);
    expect(page.body.users).toHaveLength(10);
  });

  it('relays upstream errors, retry-after, and a dead upstream as 502', async () => {
    sbA.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '3' } });
    const busy = await get(dataA('/users'), BEARER_A);
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('3');
    expect(busy.body.statusInfoSet[0].imsx_codeMinor).toBe('server_busy');
    sbA.injectFault({ kind: 'reset' });
    expect((await get(dataA('/users'), BEARER_A)).status).toBe(502);
    expect((await get(dataA('/users/nope'), BEARER_A)).status).toBe(404);
  });
});

describe('tenant changes', () => {
  it('setTenants adds and removes tenants between refreshes', async () => {
    cl.setTenants([tenantB({ tenantId: 9, tenantName: 'New District', applicationId: 'TmV3%2B%3D%3D', bearer: 'new-bearer' })]);
    const apps = (await get(`${cl.url}/applications`, DEV)).body.applications;
    expect(apps.map((a: { tenant_id: number }) => a.tenant_id)).toEqual([9]);
    expect((await get(dataA('/users'), BEARER_A)).status).toBe(404);
    expect((await get(`${cl.url}/TmV3%2B%3D%3D/ims/oneroster/rostering/v1p2/orgs`, 'new-bearer')).status).toBe(200);
  });

  it('rotateBearer: the old bearer is refused, the new one works; null falls back to the developer token', async () => {
    cl.rotateBearer(2, 'rotated-a');
    expect((await get(`${cl.url}/applications`, DEV)).body.applications[0].bearer).toBe('rotated-a');
    expect((await get(dataA('/orgs'), BEARER_A)).status).toBe(401);
    expect((await get(dataA('/orgs'), 'rotated-a')).status).toBe(200);
    cl.rotateBearer(2, null);
    expect((await get(dataA('/orgs'), 'rotated-a')).status).toBe(401);
    expect((await get(dataA('/orgs'), DEV)).status).toBe(200);
    cl.rotateBearer(7, 'b-now-has-one');
    expect((await get(dataB('/orgs'), DEV)).status).toBe(401);
    expect((await get(dataB('/orgs'), 'b-now-has-one')).status).toBe(200);
    expect(() => cl.rotateBearer(404, 'x')).toThrow(RangeError);
  });
});

describe('forwarded request', () => {
  let stub: Server;
  let seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    stub = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': String(req.headers['x-request-id']), 'x-secret': 'no' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => stub.close(() => resolve())));

  it('carries method, raw path and query, body, content-type, x-request-id and the upstream token', async () => {
    seen = [];
    const origin = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const upstream = { baseUrl: `${origin}/ims/oneroster`, url: origin } as unknown as TestSandbox;
    cl.setTenants([tenantA({ upstream, upstreamToken: 'stub-token' })]);
    // node:http with a raw path, not fetch or a URL: those would normalise the quote in the query before it left.
    const path = `/${APP_A}/ims/oneroster/v1p1/classes/c%201/lineItems?filter=title%3D%27a%27&x='y'`;
    const got = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(cl.url);
      const req = request({
        hostname, port, path, method: 'POST',
        headers: { authorization: `Bearer ${BEARER_A}`, 'content-type': 'application/json', 'x-request-id': 'req-42' },
      }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end('{"lineItems":[]}');
    });
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toEqual({ ok: true });
    expect(got.headers['x-request-id']).toBe('req-42');
    expect(got.headers['x-secret']).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe("/ims/oneroster/v1p1/classes/c%201/lineItems?filter=title%3D%27a%27&x='y'");
    expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer stub-token', 'content-type': 'application/json', 'x-request-id': 'req-42' });
    expect(seen[0]?.body).toBe('{"lineItems":[]}');
  });
});

describe('hit counts', () => {
  it('counts discovery, server and data requests (including rejected ones)', async () => {
    await get(`${cl.url}/applications`, DEV);
    await get(`${cl.url}/applications`, null);
    await get(`${cl.url}/applications/${APP_A}/server`, DEV);
    await get(dataA('/orgs'), BEARER_A);
    await get(dataA('/orgs'), DEV);
    await get(dataB('/orgs'), DEV);
    expect(cl.hits()).toEqual({ discovery: 2, server: 1, data: 3 });
    cl.resetHits();
    expect(cl.hits()).toEqual({ discovery: 0, server: 0, data: 0 });
  });
});
