import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';

// One clock for the sandbox's token expiry and the gateway's refresh decisions.
let now = Date.parse('2026-01-05T08:00:00Z');
const clock = () => now;
let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      {
        id: 'shelbyville',
        sandbox: oauth2Sandbox({ now: clock, auth: { type: 'oauth2', clientId: 'gw-client', clientSecret: 'oauth2-upstream-secret', tokenTtlSeconds: 300 } }),
      },
      // The gateway holds the wrong secret for this one: its token URL refuses it.
      { id: 'broken', sandbox: oauth2Sandbox(), authExtra: { clientSecret: 'wrong-upstream-secret' } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['shelbyville', 'broken'], scopes: ALL_SCOPES }],
    now: clock,
    // Every read must reach the district: these tests are about its tokens, not the cache.
    cache: { ttlSeconds: 0, staleSeconds: 0 },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const users = (d = 'shelbyville') => stack.http.get(`/districts/${d}/ims/oneroster/rostering/v1p2/users?limit=2`).set('authorization', `Bearer ${token}`);

describe('an OAuth 2.0 district through the gateway', () => {
  it('fetches one upstream token for many concurrent requests', async () => {
    const sandbox = stack.sandboxes.shelbyville!;
    const results = await Promise.all(Array.from({ length: 8 }, () => users()));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(sandbox.tokenRequests).toBe(1);
  });

  it('refreshes the upstream token before it expires', async () => {
    const sandbox = stack.sandboxes.shelbyville!;
    now += 299_000; // one second before the 300 s token would expire
    const res = await users();
    expect(res.status).toBe(200);
    expect(sandbox.tokenRequests).toBe(2);
    expect(sandbox.hits.at(-1)!.authorized).toBe(true);
  });

  it('retries once with a fresh token when the district revokes it', async () => {
    const sandbox = stack.sandboxes.shelbyville!;
    sandbox.revokeTokens();
    sandbox.resetHits();
    const res = await users();
    expect(res.status).toBe(200);
    expect(sandbox.tokenRequests).toBe(3);
    expect(sandbox.hits.map((h) => h.status)).toEqual([401, 200]);
  });

  it('answers 502 without leaking anything when the token URL refuses the gateway', async () => {
    const sandbox = stack.sandboxes.broken!;
    const res = await users('broken');
    expect(res.status).toBe(502);
    expect(res.body.imsx_description).toMatch(/could not authenticate to district "broken"/);
    const text = JSON.stringify(res.body) + stack.logs.join('');
    for (const leak of ['oauth2-upstream-secret', 'wrong-upstream-secret', sandbox.url]) expect(text).not.toContain(leak);
    // No data request went out without a token, and a failed token is not cached.
    expect(sandbox.hitCount()).toBe(0);
    await users('broken');
    expect(sandbox.tokenRequests).toBe(2);
  });
});
