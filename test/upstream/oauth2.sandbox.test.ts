import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/testing.js';
import { createUpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamClient, UpstreamRequest } from '../../src/upstream/types.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';
import { startLocalServer } from './local-server.js';

type TestSandbox = Awaited<ReturnType<typeof startSandbox>>;
// Characters that Basic credentials must survive (RFC 6749 §2.3.1 form-encoding).
const CLIENT_ID = 'client:id+1';
const CLIENT_SECRET = 'Se cret/+%:!&=';
const TTL_S = 60;

let clock = Date.UTC(2030, 5, 1);
const now = () => clock;
let sandbox: TestSandbox;
let clients: UpstreamClient[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({
    version: 'v1p2',
    auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenTtlSeconds: TTL_S },
    port: 0, users: 50,
    now,
  });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.resetHits();
  sandbox.clearFaults();
  sandbox.tokenRequests = 0;
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

function client(auth: Partial<{ clientSecret: string; clientAuth: 'basic' | 'body'; scope: string; tokenUrl: string }> = {}): UpstreamClient {
  const c = createUpstreamClient(
    district(sandbox.baseUrl, {
      type: 'oauth2',
      tokenUrl: auth.tokenUrl ?? sandbox.tokenUrl,
      clientId: CLIENT_ID,
      clientSecret: auth.clientSecret ?? CLIENT_SECRET,
      scope: auth.scope ?? 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly',
      clientAuth: auth.clientAuth ?? 'basic',
    }),
    { now },
  );
  clients.push(c);
  return c;
}
const USERS: UpstreamRequest = { method: 'GET', path: '/rostering/v1p2/users', query: [['limit', '2']] };

describe('oauth2 against the sandbox (v1p2)', () => {
  it('uses one token for many requests', async () => {
    const c = client();
    for (let i = 0; i < 5; i++) expect((await c.request(USERS)).status).toBe(200);
    expect(sandbox.tokenRequests).toBe(1);
    expect(sandbox.hitCount('/ims/oneroster/rostering/v1p2/users')).toBe(5);
  });

  it('concurrent first requests share exactly one token request', async () => {
    const c = client();
    const results = await Promise.all(Array.from({ length: 8 }, () => c.request(USERS)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(sandbox.tokenRequests).toBe(1);
    expect(sandbox.hits.every((h) => h.authorized)).toBe(true);
  });

  it('refreshes before expiry, so no request ever meets a 401', async () => {
    const c = client();
    await c.request(USERS);
    clock += TTL_S * 900 - 1; // just before 90% of the lifetime
    await c.request(USERS);
    expect(sandbox.tokenRequests).toBe(1);
    clock += 1;
    await c.request(USERS);
    expect(sandbox.tokenRequests).toBe(2);
    clock += TTL_S * 1000; // far past the second token's expiry
    expect((await c.request(USERS)).status).toBe(200);
    expect(sandbox.tokenRequests).toBe(3);
    expect(sandbox.hits.map((h) => h.status)).toEqual([200, 200, 200, 200]);
  });

  it('after revokeTokens(): 401, one token refresh, one retry that succeeds', async () => {
    const c = client();
    await c.request(USERS);
    sandbox.revokeTokens();
    sandbox.resetHits();
    const res = await c.request(USERS);
    expect(res.status).toBe(200);
    expect(sandbox.tokenRequests).toBe(2);
    expect(sandbox.hits.map((h) => h.status)).toEqual([401, 200]);
  });

  it('retries a 401 only once: the second 401 is the answer', async () => {
    const c = client();
    await c.request(USERS);
    sandbox.resetHits();
    sandbox.injectFault({ kind: 'status', status: 401 }, { times: 2 });
    const res = await c.request(USERS);
    expect(res.status).toBe(401);
    expect(sandbox.hitCount()).toBe(2);
    expect(sandbox.tokenRequests).toBe(2);
  });

  it.each(['basic', 'body'] as const)('authenticates the client with %s credentials', async (clientAuth) => {
    const res = await client({ clientAuth }).request(USERS);
    expect(res.status).toBe(200);
    expect(sandbox.tokenRequests).toBe(1);
  });

  it("sends no scope when scope is ''", async () => {
    expect((await client({ scope: '' }).request(USERS)).status).toBe(200);
  });

  it('a wrong secret is UPSTREAM_AUTH_FAILED naming the status, never the secret or URL', async () => {
    const err = await client({ clientSecret: 'wrong-secret-value' }).request(USERS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_AUTH_FAILED');
    const msg = (err as Error).message;
    expect(msg).toMatch(/401/);
    for (const leak of ['wrong-secret-value', CLIENT_ID, '127.0.0.1', new URL(sandbox.url).port, '/token']) expect(msg).not.toContain(leak);
    expect(sandbox.hitCount()).toBe(0);
  });
});

describe('oauth2 with a broken token endpoint', () => {
  it.each([
    ['500', 500, 'text/plain', 'oops', /answered 500/],
    ['non-JSON', 200, 'text/html', '<html>sign in</html>', /not a JSON object/],
    ['no access_token', 200, 'application/json', '{"token_type":"bearer"}', /no access_token/],
  ] as const)('%s -> UPSTREAM_AUTH_FAILED, not cached, no data request', async (_n, status, type, body, message) => {
    let broken = true;
    const idp = await startLocalServer((_req, res) => {
      if (broken) {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'never-valid-at-the-sandbox', token_type: 'Bearer', expires_in: 30 }));
      }
    });
    try {
      const c = client({ tokenUrl: `${idp.origin}/oauth/token?tenant=abc` });
      const err = await c.request(USERS).catch((e: unknown) => e);
      expect((err as UpstreamError).code).toBe('UPSTREAM_AUTH_FAILED');
      const msg = (err as Error).message;
      expect(msg).toMatch(message);
      for (const leak of [CLIENT_SECRET, '127.0.0.1', String(idp.port), 'tenant', '/oauth/token']) expect(msg).not.toContain(leak);
      expect(sandbox.hitCount()).toBe(0);
      // Not cached: the next request asks the token endpoint again.
      broken = false;
      const res = await c.request(USERS);
      expect(res.status).toBe(401); // that token means nothing to the sandbox, and the retry gets a 401 too
      expect(idp.hits.map((h) => h.url)).toEqual(['/oauth/token?tenant=abc', '/oauth/token?tenant=abc', '/oauth/token?tenant=abc']);
      expect(idp.hits[0]!.method).toBe('POST');
    } finally {
      await idp.close();
    }
  });
});
