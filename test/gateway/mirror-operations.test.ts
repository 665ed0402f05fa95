// The mirror as an operator and an app meet it through the gateway: reads go through the page
// cache until the first copy is published, a change at the district reaches the copy with the
// next delta sync, the copy keeps answering while the district is down, a refusal is shown,
// and the admin refresh, GET /districts, the access log and /metrics say what happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { until } from '../helpers/until.js';

const ADMIN = 'mirror-admin-token-0123456789abcdef';
let stack: Stack;
let token: string;

type Mirror = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function mirrorOf(id: string): Promise<Mirror> {
  const res = await stack.http.get('/districts').set('authorization', `Bearer ${token}`);
  return res.body.districts.find((d: { id: string }) => d.id === id).mirror;
}


const ready = (id: string, after?: string) => until(async () => ((m) => (m.state === 'ready' && m.version !== after ? m : undefined))(await mirrorOf(id)), `${id} ready`);
const get = (path: string) => stack.http.get(path).set('authorization', `Bearer ${token}`);
const admin = (path: string) => stack.http.post(path).set('authorization', `Bearer ${ADMIN}`);

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'slow', sandbox: oauth1Sandbox({ users: 60 }), extra: { mirror: true } },
      // 300 ms a request: its first pull (14 requests) takes seconds, while a read takes one request.
      { id: 'late', sandbox: oauth1Sandbox({ users: 20, latencyMs: 300 }), extra: { mirror: true } },
      { id: 'plain', sandbox: oauth1Sandbox({ users: 20 }) },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    admin: { token: ADMIN },
    // Delta sync on, polled by the admin's "sync now" (the interval itself is not waited for).
    cache: { deltaSync: { enabled: true, intervalSeconds: 3600, overlapSeconds: 0 } },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

describe('the mirror in operation', () => {
  it('answers through the page cache before the first copy, then from the copy', async () => {
    expect(await mirrorOf('late')).toMatchObject({ state: 'building', version: null, pulling: true });
    const before = await get('/districts/late/ims/oneroster/v1p1/orgs?limit=2');
    expect(before.status).toBe(200);
    expect(before.headers['x-cache']).toBe('MISS');
    expect(before.headers['x-mirror-version']).toBeUndefined();
    const m = await ready('late');
    const res = await get('/districts/late/ims/oneroster/v1p1/orgs?limit=2');
    expect(res.headers['x-cache']).toBe('MIRROR');
    expect(res.headers['x-mirror-version']).toBe(m.version);
    expect(res.body).toEqual(before.body);
    expect(Number(res.headers.age)).toBeGreaterThanOrEqual(0);
    expect(stack.logs.join('')).toMatch(/"msg":"request".*"district":"late".*"cache":"MIRROR"/);
  });

  it('brings a change at the district into the copy with the next delta sync', async () => {
    const m = await ready('slow');
    const sandbox = stack.sandboxes.slow!;
    const user = sandbox.store.list('users')[3]!;
    sandbox.store.update('users', user.sourcedId, { givenName: 'Changed-By-District' });
    expect((await admin('/admin/districts/slow/sync')).status).toBe(200);
    const after = await ready('slow', m.version);
    const res = await get(`/districts/slow/ims/oneroster/rostering/v1p2/users/${user.sourcedId}`);
    expect(res.headers['x-cache']).toBe('MIRROR');
    expect(res.headers['x-mirror-version']).toBe(after.version);
    expect(res.body.user.givenName).toBe('Changed-By-District');
  });

  it('keeps answering from the copy while the district is down', async () => {
    await ready('slow');
    const sandbox = stack.sandboxes.slow!;
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 1000 });
    try {
      sandbox.resetHits();
      const res = await get("/districts/slow/ims/oneroster/v1p1/classes?filter=status%3D'active'&limit=5");
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('MIRROR');
      expect(sandbox.hitCount()).toBe(0);
    } finally {
      sandbox.clearFaults();
    }
  });

  it('refuses a refresh that would shrink the district, shows why, and publishes it when forced', async () => {
    const m = await ready('slow');
    const sandbox = stack.sandboxes.slow!;
    const users = sandbox.store.list('users').map((u) => u.sourcedId);
    for (const id of users.slice(0, 30)) sandbox.store.remove('users', id);
    const started = await admin('/admin/districts/slow/mirror/refresh');
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ district: 'slow', mirror: { refresh: 'started', force: false } });
    const refused = await until(async () => ((x) => (x.lastFullPull?.outcome === 'refused' && !x.pulling ? x : undefined))(await mirrorOf('slow')), 'the refusal');
    expect(refused.version).toBe(m.version);
    expect(refused.lastRefusal.reason).toMatch(/users would shrink from 60 to 30/);
    expect((await get('/districts/slow/ims/oneroster/v1p1/users?limit=1')).headers['x-total-count']).toBe('60');

    expect((await admin('/admin/districts/slow/mirror/refresh?force=true')).status).toBe(202);
    const forced = await ready('slow', m.version);
    expect(forced.counts.users).toBe(30);
    expect((await get('/districts/slow/ims/oneroster/v1p1/users?limit=1')).headers['x-total-count']).toBe('30');
  });

  it('answers the refresh of a district that is not mirrored with a OneRoster error, and needs the admin token', async () => {
    const off = await admin('/admin/districts/plain/mirror/refresh');
    expect(off.status).toBe(501);
    expect(off.body.imsx_description ?? JSON.stringify(off.body)).toMatch(/not mirrored/);
    expect((await admin('/admin/districts/nowhere/mirror/refresh')).status).toBe(404);
    const noAuth = await stack.http.post('/admin/districts/slow/mirror/refresh');
    expect(noAuth.status).toBe(401);
    expect((await mirrorOf('plain')).state).toBe('off');
  });

  it('exports the copy, its age and its pulls as metrics', async () => {
    await ready('slow');
    const text = (await stack.http.get('/metrics')).text;
    // The copy's records in all, as GET /districts counts them; by collection only with metrics.perDistrictHistograms.
    const counts = Object.values((await mirrorOf('slow')).counts as Record<string, number>);
    expect(counts.length).toBeGreaterThan(1);
    expect(text).toMatch(new RegExp(`^oneroster_gateway_mirror_records\\{district="slow"\\} ${counts.reduce((a, b) => a + b, 0)}$`, 'm'));
    expect(text).not.toMatch(/mirror_records\{[^}]*collection=/);
    expect(text).toMatch(/oneroster_gateway_mirror_age_seconds\{district="slow"\} [\d.]+/);
    expect(text).toMatch(/oneroster_gateway_mirror_pulls_total\{district="slow",outcome="published"\} [1-9]/);
    expect(text).toMatch(/oneroster_gateway_mirror_pulls_total\{district="slow",outcome="refused"\} [1-9]/);
    expect(text).toMatch(/oneroster_gateway_mirror_last_pull_duration_seconds\{district="slow"\} [\d.e-]+/);
    expect(text).not.toMatch(/mirror_records\{district="plain"/);
    const bytes = Number(/oneroster_gateway_mirror_memory_bytes (\d+)/.exec(text)?.[1]);
    expect(bytes).toBeGreaterThan(10_000);
  });
});
