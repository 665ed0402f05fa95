// Fuzzing the running gateway over real HTTP, in front of two healthy sandbox districts
// (OneRoster 1.1 over OAuth 1.0a, 1.2 over OAuth 2.0): whatever the path, query, headers,
// method or body, the answer is never a 5xx, is JSON, carries the OneRoster status-info
// envelope when it is an error, and never shows an upstream URL or credential. Afterwards the
// process still answers /healthz and logged no unhandled error.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Version } from '../../src/core/oneroster/endpoints.js';
import { SCOPES } from '../../src/core/oneroster/scopes.js';
import { UPSTREAM_SECRETS, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { anyProbe, readProbe, tokenProbe, writeProbe } from './http-arbitraries.js';
import { closeAgent, describeFailure, problemsOf, send, type Answer, type Probe } from './http-probe.js';

const DISTRICTS: Record<string, Version> = { one: 'v1p1', two: 'v1p2' };
const APP_SECRET = 'app-secret-value';
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
let stack: Stack;
let appToken: string;
let soloToken: string;
let secrets: string[];
const ids: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'one', sandbox: oauth1Sandbox() },
      { id: 'two', sandbox: oauth2Sandbox() },
    ],
    clients: [
      { clientId: 'app', clientSecret: APP_SECRET, districts: ['*'], scopes: [...SCOPES] },
      // One district named outright (implicit), one narrow scope: 403s and implicit routing.
      { clientId: 'solo', clientSecret: 'solo-secret-value', districts: ['one'], scopes: ['roster-core.readonly'] },
    ],
    server: { limits: { maxWriteBodyBytes: 8192 } },
    admin: { token: ADMIN_TOKEN },
  });
  appToken = await stack.token('app', APP_SECRET);
  soloToken = await stack.token('solo', 'solo-secret-value');
  const sandboxes = Object.values(stack.sandboxes);
  secrets = [...UPSTREAM_SECRETS, ...sandboxes.flatMap((s) => [s.baseUrl, s.tokenUrl, new URL(s.url).host])];
  // Real ids, so that some generated paths name objects that exist.
  for (const [district, version] of Object.entries(DISTRICTS)) {
    for (const [service, collection] of [['rostering', 'users'], ['rostering', 'classes'], ['rostering', 'orgs'], ['gradebook', 'lineItems'], ['gradebook', 'results'], ['gradebook', 'categories']] as const) {
      const root = version === 'v1p1' ? '/v1p1' : `/${service}/v1p2`;
      const res = await stack.http.get(`/districts/${district}/ims/oneroster${root}/${collection}?limit=2`).set('authorization', `Bearer ${appToken}`);
      for (const r of (res.body[collection] ?? []) as Array<{ sourcedId: string }>) ids.push(r.sourcedId);
    }
  }
  expect(ids.length).toBeGreaterThan(10);
});

afterAll(async () => {
  closeAgent();
  await stack?.close();
});

/** Sends one probe and throws (fast-check then prints the probe) when the answer breaks a rule. */
async function check(p: Probe): Promise<Answer> {
  // Probes name the token ("app"); it is put in here so counterexamples stay short.
  const auth = p.headers.authorization;
  const sent: Probe = { ...p, headers: { ...p.headers, ...(auth === 'app' || auth === 'solo' ? { authorization: `Bearer ${auth === 'app' ? appToken : soloToken}` } : {}) } };
  const a = await send(stack.gateway.url, sent);
  // HEAD has no body to judge: its GET twin is judged, and the two must agree on the status.
  const twin = sent.method === 'HEAD' ? await check({ ...p, method: 'GET' }) : undefined;
  if (twin && twin.status !== a.status) throw new Error(describeFailure(p, a, [`HEAD ${a.status} but GET ${twin.status}`]));
  const problems = problemsOf(sent, a, {
    secrets,
    // /metrics is Prometheus text by design (metrics.auth: none); every other answer is JSON.
    nonJson: (path) => path === '/metrics',
    // The one deliberate 5xx: 501 unsupported for an endpoint the district's version lacks
    // (a 1.2-only route on a 1.1 district). The sandboxes are healthy: no 502/503/504.
    // The admin API's sync is 501 too while delta sync is off (the test stack turns it off).
    allow5xx: (status, body) => {
      if (status !== 501) return false;
      if (twin !== undefined) return true; // a HEAD whose GET passed these same checks
      const info = (body ?? {}) as Record<string, unknown>;
      return info.imsx_codeMajor === 'unsupported' && /^(District "one" speaks OneRoster v1p1, which has no (GET|PUT|POST|DELETE) \/|Delta sync is disabled)/.test(String(info.imsx_description));
    },
  });
  if (problems.length > 0) throw new Error(describeFailure(p, a, problems));
  return a;
}

describe('the gateway over HTTP, fuzzed', () => {
  const runs = { numRuns: 250 };

  it('reads: any path, query and headers under /ims/oneroster and /districts/{id}/ims/oneroster', async () => {
    await fc.assert(fc.asyncProperty(readProbe(() => ids), async (p) => void (await check(p))), runs);
  });

  it('writes: any method, content type and body on the gradebook write routes', async () => {
    await fc.assert(fc.asyncProperty(writeProbe(() => ids), async (p) => void (await check(p))), runs);
  });

  it('POST /oauth/token: any form, JSON or raw body, grant, client, scope and Authorization', async () => {
    await fc.assert(
      fc.asyncProperty(tokenProbe(APP_SECRET), async (p) => {
        const a = await check(p);
        // What the endpoint issues is a working token.
        if (a.status === 200) {
          const { access_token: token } = JSON.parse(a.body) as { access_token: string };
          const res = await stack.http.get('/districts').set('authorization', `Bearer ${token}`);
          expect(res.status).toBe(200);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('anything: any method on any path, with any bytes the HTTP client may send', async () => {
    await fc.assert(fc.asyncProperty(anyProbe(ADMIN_TOKEN), async (p) => void (await check(p))), runs);
  });

  it('regressions found by these properties, as examples', async () => {
    const get = (path: string) => stack.http.get(path).set('authorization', `Bearer ${appToken}`);
    // A padded sort is not the bare one, and not a field either: the gateway refuses it
    // itself (invalid_sort_field) rather than letting the district sort it its own way.
    const bare = await get('/districts/one/ims/oneroster/v1p1/users?sort=familyName&limit=3');
    const padded = await get('/districts/one/ims/oneroster/v1p1/users?sort=%20familyName&limit=3');
    expect([bare.status, bare.headers['x-cache'], padded.status]).toEqual([200, 'MISS', 400]);
    // Object.prototype names are not fields (sort and fields are checked by the route plan on
    // every path version); blank fields and sort select nothing.
    for (const q of ["filter=constructor%3D'x'", 'fields=%2C', 'sort=%20']) {
      const res = await get(`/districts/one/ims/oneroster/v1p1/users?${q}`);
      expect([q, res.status, res.body.statusInfoSet?.[0]?.imsx_codeMajor]).toEqual([q, 400, 'failure']);
    }
    for (const q of ["filter=toString%3D'x'", 'sort=toString', 'fields=constructor']) {
      const res = await get(`/districts/one/ims/oneroster/rostering/v1p2/users?${q}`);
      expect([q, res.status, res.body.imsx_codeMajor]).toEqual([q, 400, 'failure']);
    }
    // `oneroster//v1p1` is routed as 1.1, so its errors have the 1.1 shape too.
    const doubled = await get("/districts/one/ims/oneroster//v1p1/users?filter=nope%3D'x'");
    expect([doubled.status, Array.isArray(doubled.body.statusInfoSet)]).toEqual([400, true]);
    // What @hono/node-server cannot make a Request of got a bare 400 with no body.
    const unreadable: Array<Pick<Probe, 'path' | 'headers'>> = [{ path: '/ims\\oneroster/v1p1/users', headers: {} }, { path: '/healthz', headers: { host: 'a b' } }];
    for (const probe of unreadable) {
      const bad = await send(stack.gateway.url, { method: 'GET', ...probe });
      expect([bad.status, JSON.parse(bad.body).imsx_description]).toEqual([400, 'The request target or Host header is not valid.']);
    }
    // HEAD refused by Node's parser (a byte > 0x7e in the URL): the head only, no body after it.
    const head = await send(stack.gateway.url, { method: 'HEAD', path: '/ims/oneroster/v1p1/users?\u00e9', headers: {} });
    expect([head.status, head.body]).toEqual([400, '']);
  });

  it('is still up afterwards and logged no unhandled error', async () => {
    const health = await send(stack.gateway.url, { method: 'GET', path: '/healthz', headers: {} });
    expect({ status: health.status, body: JSON.parse(health.body) }).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await send(stack.gateway.url, { method: 'GET', path: '/readyz', headers: {} });
    expect(ready.status).toBe(200);
    const errors = stack.logs.filter((l) => /"level":(50|60)/.test(l) || l.includes('unhandled error'));
    expect(errors).toEqual([]);
  });
});
