// ClassLink discovery against a fake ClassLink (discovery API + OneRoster proxy) in front of
// two sandbox districts: tenants appear as districts, follow additions, removals and bearer
// rotation without a restart, and are reached with the application id used verbatim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClassLinkFake, type ClassLinkFake, type ClassLinkTenant } from '../../src/sandbox/classlink.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { ALL_SCOPES, startStack, type Stack } from '../helpers/stack.js';

const DEV_TOKEN = 'classlink-developer-token-0123';
let stack: Stack;
let fake: ClassLinkFake;
let north: TestSandbox;
let south: TestSandbox;
let token: string;
let tenants: ClassLinkTenant[];

beforeAll(async () => {
  north = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'north-upstream' }, users: 60, seed: 3 });
  south = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'south-upstream' }, users: 40, seed: 4 });
  tenants = [
    { tenantId: 1234, tenantName: 'North District', applicationId: 'MoYPlyQWmG0%3D', bearer: 'north-tenant-bearer', upstream: north, upstreamToken: 'north-upstream' },
    { tenantId: 77, tenantName: 'South District', applicationId: 'Zm9vYmFy', bearer: null, upstream: south, upstreamToken: 'south-upstream' },
  ];
  fake = await startClassLinkFake({ developerToken: DEV_TOKEN, tenants });
  stack = await startStack({
    districts: [],
    clients: [
      { clientId: 'app', clientSecret: 'app-secret-value', districts: ['classlink-*'], scopes: ALL_SCOPES },
      { clientId: 'north-only', clientSecret: 'north-secret-val', districts: ['classlink-1234'], scopes: ALL_SCOPES },
    ],
    extra: {
      classlink: {
        discoveryUrl: `${fake.url}/applications`,
        proxyBaseUrl: fake.url,
        token: DEV_TOKEN,
        refreshSeconds: 3600,
        // Tenant 505 (added later) speaks 1.2 behind the proxy: asked, not configured.
        tenants: { '505': { version: 'auto' } },
      },
    },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await Promise.all([north?.close(), south?.close()]);
});

const get = (path: string, t = token) => stack.http.get(path).set('authorization', `Bearer ${t}`);
const refresh = () => stack.gateway.classlink!.refresh();

describe('ClassLink discovery', () => {
  it('serves every discovered tenant with only a classlink block, the application id used verbatim', async () => {
    const list = await get('/districts');
    expect(list.body.districts).toEqual([
      expect.objectContaining({ id: 'classlink-1234', name: 'North District', source: 'classlink', version: 'v1p1', authType: 'bearer' }),
      expect.objectContaining({ id: 'classlink-77', name: 'South District', source: 'classlink', version: 'v1p1', authType: 'bearer' }),
    ]);
    north.resetHits();
    const users = await get('/districts/classlink-1234/ims/oneroster/v1p1/users?limit=5');
    expect(users.status).toBe(200);
    expect(users.body.users).toHaveLength(5);
    expect(north.hitCount()).toBe(1); // through the proxy, at MoYPlyQWmG0%3D (the fake 404s any other form)
    // The null-bearer tenant is reached with the developer token.
    const south1 = await get('/districts/classlink-77/ims/oneroster/rostering/v1p2/users?limit=3');
    expect(south1.status).toBe(200);
    expect(south1.body.users[0].roles).toBeInstanceOf(Array);
    // Nothing of the proxy's address reaches the client.
    expect(users.text + south1.text).not.toContain(fake.url);
    expect(users.text + south1.text).not.toContain(new URL(north.baseUrl).origin);
    expect(users.text + south1.text + stack.logs.join('')).not.toMatch(/north-tenant-bearer|classlink-developer-token/);
    // GET /districts: when each district last answered, and how its pages were served.
    const again = await get('/districts/classlink-1234/ims/oneroster/v1p1/users?limit=5');
    expect(again.headers['x-cache']).toBe('HIT');
    const north1 = (await get('/districts')).body.districts.find((d: { id: string }) => d.id === 'classlink-1234');
    expect(Date.parse(north1.health.lastSuccessAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(north1.health.lastFailureAt).toBeUndefined();
    expect(north1.cache).toMatchObject({ HIT: 1, MISS: 1, hitRatio: 0.5 });
  });

  it('applies client patterns to discovered districts', async () => {
    const northOnly = await stack.token('north-only', 'north-secret-val');
    expect((await get('/districts/classlink-77/ims/oneroster/v1p1/orgs', northOnly)).status).toBe(403);
    expect((await get('/ims/oneroster/v1p1/orgs', northOnly)).status).toBe(200); // its only district
  });

  it('lets a request in flight finish when the tenant bearer rotates under it', async () => {
    north.injectFault({ kind: 'delay', ms: 400 }, { match: '/academicSessions' });
    const inFlight = get('/districts/classlink-1234/ims/oneroster/v1p1/academicSessions?limit=2').then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    fake.rotateBearer(1234, 'north-bearer-while-busy');
    await refresh(); // the tenant's client is replaced; the old one is retired, not cut
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.academicSessions).toHaveLength(2);
    expect((await get('/districts/classlink-1234/ims/oneroster/v1p1/orgs?limit=1')).status).toBe(200);
  });

  it('follows a rotated bearer: a 401 triggers one rediscovery and a retry', async () => {
    fake.resetHits();
    fake.rotateBearer(1234, 'north-bearer-rotated');
    const res = await get('/districts/classlink-1234/ims/oneroster/v1p1/courses?limit=2');
    expect(res.status).toBe(200);
    expect(fake.hits().discovery).toBe(1);
    expect(fake.hits().data).toBe(2); // refused with the old bearer, then served with the new one
  });

  it('adds and removes tenants at the next refresh; a removed one answers 404 and its cache is gone', async () => {
    const cached = await get('/districts/classlink-77/ims/oneroster/v1p1/classes?limit=2');
    expect(cached.status).toBe(200);
    const west = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'west-upstream' }, users: 20, seed: 5 });
    try {
      fake.setTenants([
        tenants[0]!,
        { tenantId: 9, tenantName: 'West District', applicationId: 'd2VzdA%3D%3D', bearer: 'west-bearer', upstream: west, upstreamToken: 'west-upstream' },
      ]);
      fake.rotateBearer(1234, 'north-bearer-rotated');
      await refresh();
      const ids = (await get('/districts')).body.districts.map((d: { id: string }) => d.id);
      expect(ids).toEqual(['classlink-1234', 'classlink-9']);
      expect((await get('/districts/classlink-9/ims/oneroster/v1p1/schools')).status).toBe(200);
      const gone = await get('/districts/classlink-77/ims/oneroster/v1p1/classes?limit=2');
      expect(gone.status).toBe(404);
      expect(gone.text).not.toContain('"classes"');
    } finally {
      fake.setTenants(tenants);
      await refresh();
      await west.close();
    }
  });

  it('asks a tenant with version auto which OneRoster it speaks, through the proxy', async () => {
    const east = await startSandbox({ version: 'v1p2', auth: { type: 'bearer', token: 'east-upstream' }, users: 20, seed: 6 });
    try {
      fake.setTenants([...tenants, { tenantId: 505, tenantName: 'East District', applicationId: 'ZWFzdA%3D%3D', bearer: 'east-bearer', upstream: east, upstreamToken: 'east-upstream' }]);
      await refresh();
      const before = (await get('/districts')).body.districts.find((d: { id: string }) => d.id === 'classlink-505');
      expect(before).toMatchObject({ version: null, versionProbe: { state: 'pending' } });
      const users = await get('/districts/classlink-505/ims/oneroster/v1p1/users?limit=3');
      expect(users.status).toBe(200);
      expect(users.body.users[0].role).toEqual(expect.any(String));
      expect(east.hits.filter((h) => h.path.endsWith('/orgs')).map((h) => h.path)).toEqual(['/ims/oneroster/rostering/v1p2/orgs']);
      const after = (await get('/districts')).body.districts.find((d: { id: string }) => d.id === 'classlink-505');
      expect(after).toMatchObject({ version: 'v1p2', versionProbe: { state: 'probed' } });
    } finally {
      fake.setTenants(tenants);
      await refresh();
      await east.close();
    }
  });
});

describe('ClassLink direct mode', () => {
  it('signs directly to the district server with the credentials ClassLink hands out, else uses the proxy', async () => {
    const direct = await startSandbox({ version: 'v1p1', auth: { type: 'oauth1', consumerKey: 'cl-direct-key', consumerSecret: 'cl-direct-secret' }, users: 30, seed: 6 });
    const proxied = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'east-upstream' }, users: 20, seed: 7 });
    const cl = await startClassLinkFake({
      developerToken: DEV_TOKEN,
      tenants: [
        { tenantId: 501, tenantName: 'Direct District', applicationId: 'ZGlyZWN0%3D', bearer: 'unused-bearer', upstream: direct, upstreamToken: 'n/a', direct: { clientId: 'cl-direct-key', clientSecret: 'cl-direct-secret' } },
        // No direct credentials (ClassLink's example has an empty secret): the proxy it is.
        { tenantId: 502, tenantName: 'East District', applicationId: 'ZWFzdA%3D%3D', bearer: 'east-bearer', upstream: proxied, upstreamToken: 'east-upstream' },
      ],
    });
    const s = await startStack({
      districts: [],
      clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
      extra: { classlink: { discoveryUrl: `${cl.url}/applications`, proxyBaseUrl: cl.url, token: DEV_TOKEN, mode: 'direct' } },
    });
    try {
      const t = await s.token('app', 'app-secret-value');
      const list = (await s.http.get('/districts').set('authorization', `Bearer ${t}`)).body.districts;
      expect(list.map((d: { id: string; authType: string }) => `${d.id}:${d.authType}`)).toEqual(['classlink-501:oauth1', 'classlink-502:bearer']);
      cl.resetHits();
      const res = await s.http.get('/districts/classlink-501/ims/oneroster/v1p1/users?limit=4').set('authorization', `Bearer ${t}`);
      expect(res.status).toBe(200);
      expect(res.body.users).toHaveLength(4);
      expect(direct.hitCount()).toBeGreaterThan(0); // the OAuth1 signature verified by the district itself
      expect(cl.hits().data).toBe(0);
      const east = await s.http.get('/districts/classlink-502/ims/oneroster/v1p1/orgs').set('authorization', `Bearer ${t}`);
      expect(east.status).toBe(200);
      expect(cl.hits().data).toBe(1);
      expect(s.logs.join('')).not.toContain('cl-direct-secret');
    } finally {
      await s.close();
      await cl.close();
      await Promise.all([direct.close(), proxied.close()]);
    }
  });
});
