import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, oauth1Sandbox, startStack, UPSTREAM_SECRETS, type Stack } from '../helpers/stack.js';

// The breaker through the whole gateway: a district that keeps failing is left alone, cached
// pages are served stale, the rest get 503 with Retry-After, and one probe later it is back.
// The clock is the test's: freshness and openSeconds pass without sleeping.
// Starts at real time: the OAuth1 sandbox checks timestamps against its own clock (10 min window).
let now = Date.now();
const clock = () => now;
let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      {
        id: 'fragile',
        sandbox: oauth1Sandbox(),
        extra: { upstream: { breaker: { failureThreshold: 3, openSeconds: 30 }, retry: { maxAttempts: 1 } } },
      },
      { id: 'steady', sandbox: bearerSandbox() },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    cache: { ttlSeconds: 60, staleSeconds: 3600 },
    now: clock,
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const fragile = () => stack.sandboxes.fragile!;
const get = (path: string, district = 'fragile') => stack.http.get(`/districts/${district}/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${token}`);

function expectClean(text: string) {
  for (const s of Object.values(stack.sandboxes)) {
    expect(text).not.toContain(s.url);
    expect(text).not.toContain(new URL(s.url).host);
  }
  for (const secret of UPSTREAM_SECRETS) expect(text).not.toContain(secret);
}

/** Lets a background refresh, if one were started, reach the sandbox before hits are counted. */
const settle = () => new Promise((r) => setTimeout(r, 100));

const logged = (msg: string) => stack.logs.filter((l) => (JSON.parse(l) as { msg?: string }).msg === msg).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('circuit breaker through the gateway', () => {
  it('opens after three failed requests, leaving the district alone: stale pages still answer, others get 503', async () => {
    // Warm a page, then let it go stale (ttl 60 s) before the district starts failing.
    const warm = await get('/orgs?limit=5');
    expect(warm.status).toBe(200);
    expect(warm.headers['x-cache']).toBe('MISS');
    now += 61_000;

    fragile().resetHits();
    fragile().injectFault({ kind: 'status', status: 503 }, { times: 3, match: '/users' });
    for (let i = 0; i < 3; i++) expect((await get(`/users?limit=${i + 1}`)).status).toBe(503);
    // maxAttempts 1: each failed request was one upstream call.
    expect(fragile().hitCount()).toBe(3);
    expect(logged('circuit opened')).toEqual([expect.objectContaining({ district: 'fragile', failures: 3 })]);
    // An operator sees it open in GET /districts and in the metrics.
    const listed = (await stack.http.get('/districts').set('authorization', `Bearer ${token}`)).body.districts;
    expect(listed.find((d: { id: string }) => d.id === 'fragile').circuit).toMatchObject({ state: 'open', opens: 1, retryAt: expect.any(String) });
    expect(listed.find((d: { id: string }) => d.id === 'steady').circuit).toMatchObject({ state: 'closed', opens: 0 });
    expect((await stack.http.get('/metrics')).text).toContain('oneroster_gateway_circuit_state{district="fragile"} 2');

    fragile().resetHits();
    const stale = await get('/orgs?limit=5');
    expect(stale.status).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.body.orgs).toHaveLength(5);
    await settle();
    // The background refresh was refused by the breaker: nothing reached the district.
    expect(fragile().hitCount()).toBe(0);

    const refused = await get('/users?limit=7');
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toMatch(/application\/json/);
    expect(refused.headers['retry-after']).toBe('30');
    const info = refused.body.statusInfoSet[0];
    expect(info).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
    expect(info.imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('server_busy');
    expect(info.imsx_description).toMatch(/fragile/);
    expectClean(JSON.stringify(refused.body));
    await settle();
    expect(fragile().hitCount()).toBe(0);
  });

  it('counts down Retry-After while open, and refuses writes too', async () => {
    now += 20_000;
    const refused = await get('/users?limit=7');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('10');
    const put = await stack.http
      .put('/districts/fragile/ims/oneroster/v1p1/results/r-breaker')
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/json')
      .send({ result: { sourcedId: 'r-breaker', status: 'active', score: 1 } });
    expect(put.status).toBe(503);
    expectClean(JSON.stringify(put.body));
    expect(fragile().hitCount()).toBe(0);
  });

  it('is per district: the other district is untouched', async () => {
    const res = await get('/users?limit=2', 'steady');
    expect(res.status).toBe(200);
    expect(stack.sandboxes.steady!.hitCount()).toBeGreaterThan(0);
  });

  it('after openSeconds one probe closes it and requests flow again', async () => {
    now += 10_000;
    const probe = await get('/users?limit=7');
    expect(probe.status).toBe(200);
    expect(probe.headers['x-cache']).toBe('MISS');
    expect(fragile().hitCount()).toBe(1);
    expect(logged('circuit closed')).toEqual([expect.objectContaining({ district: 'fragile' })]);
    expect((await stack.http.get('/metrics')).text).toContain('oneroster_gateway_circuit_state{district="fragile"} 0');

    // Another collection (users?limit=8 would be cut from the block the probe read).
    const next = await get('/courses?limit=8');
    expect(next.status).toBe(200);
    expect(fragile().hitCount()).toBe(2);
    // The stale page refreshes again once the district is back.
    expect((await get('/orgs?limit=5')).headers['x-cache']).toBe('STALE');
    await settle();
    expect(fragile().hitCount()).toBe(3);
    expect((await get('/orgs?limit=5')).headers['x-cache']).toBe('HIT');
  });

  it('never logs where the district lives or how it is reached', () => {
    expectClean(stack.logs.join('\n'));
  });
});
