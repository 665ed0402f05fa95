import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/testing.js';
import { createUpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamClient } from '../../src/upstream/types.js';
import { district } from './district.js';

type TestSandbox = Awaited<ReturnType<typeof startSandbox>>;
const KEY = 'consumer-key';
const SECRET = "consumer secret with spaces & 'quotes'!";

let sandbox: TestSandbox;
const clients: UpstreamClient[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'oauth1', consumerKey: KEY, consumerSecret: SECRET }, port: 0, users: 50 });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sandbox.close();
});

function client(secret = SECRET, signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1' = 'HMAC-SHA256', now?: () => number): UpstreamClient {
  const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'oauth1', consumerKey: KEY, consumerSecret: secret, signatureMethod }), now ? { now } : {});
  clients.push(c);
  return c;
}
const users = (body: Buffer) => (JSON.parse(body.toString()) as { users: Array<Record<string, unknown>> }).users;

describe('oauth1 against the sandbox (v1p1)', () => {
  it('is accepted with a plain query', async () => {
    sandbox.resetHits();
    const res = await client().request({ method: 'GET', path: '/v1p1/users', query: [['limit', '5']] });
    expect(res.status).toBe(200);
    expect(users(res.body)).toHaveLength(5);
    expect(sandbox.hitCount()).toBe(1);
    expect(sandbox.hits[0]!.authorized).toBe(true);
  });

  it("signs a filter with = ' space and ~, plus fields and sort, and the server applies them", async () => {
    sandbox.resetHits();
    const res = await client().request({
      method: 'GET',
      path: '/v1p1/users',
      query: [
        ['filter', "status='active' AND familyName~'o'"],
        ['fields', 'sourcedId,familyName,status'],
        ['sort', 'familyName'],
        ['limit', '50'],
      ],
    });
    expect(res.status).toBe(200);
    const list = users(res.body);
    expect(list.length).toBeGreaterThan(0);
    for (const u of list) {
      expect(Object.keys(u).sort()).toEqual(['familyName', 'sourcedId', 'status']);
      expect(u.status).toBe('active');
      expect(String(u.familyName).toLowerCase()).toContain('o');
    }
    const names = list.map((u) => String(u.familyName));
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(sandbox.hitCount('/ims/oneroster/v1p1/users')).toBe(1);
  });

  it('signs values holding > ! * ( ) without a 401', async () => {
    const res = await client().request({
      method: 'GET',
      path: '/v1p1/users',
      query: [['filter', "dateLastModified>'2000-01-01T00:00:00Z' AND givenName!='(x*y)'"], ['limit', '1']],
    });
    expect(res.status).toBe(200);
  });

  it('works with HMAC-SHA1', async () => {
    const res = await client(SECRET, 'HMAC-SHA1').request({ method: 'GET', path: '/v1p1/orgs', query: [['limit', '2']] });
    expect(res.status).toBe(200);
  });

  it('two identical calls both pass the nonce check (fresh nonce per request)', async () => {
    const c = client();
    const req = { method: 'GET' as const, path: '/v1p1/users', query: [['limit', '1']] as Array<[string, string]> };
    expect((await c.request(req)).status).toBe(200);
    expect((await c.request(req)).status).toBe(200);
  });

  it('a wrong secret comes back as a 401 response, not an exception', async () => {
    sandbox.resetHits();
    const res = await client('wrong-secret').request({ method: 'GET', path: '/v1p1/users', query: [['limit', '1']] });
    expect(res.status).toBe(401);
    expect(sandbox.hitCount()).toBe(1);
    expect(sandbox.hits[0]!.authorized).toBe(false);
  });
});

describe('oauth1 timestamps follow the injected clock', () => {
  it('a sandbox on a fake clock accepts a client on the same clock and rejects one on the real clock', async () => {
    const fakeNow = () => Date.UTC(2031, 0, 1);
    const sb = await startSandbox({ version: 'v1p1', auth: { type: 'oauth1', consumerKey: KEY, consumerSecret: SECRET }, port: 0, users: 50, now: fakeNow });
    const onFake = createUpstreamClient(district(sb.baseUrl, { type: 'oauth1', consumerKey: KEY, consumerSecret: SECRET, signatureMethod: 'HMAC-SHA256' }), { now: fakeNow });
    const onReal = createUpstreamClient(district(sb.baseUrl, { type: 'oauth1', consumerKey: KEY, consumerSecret: SECRET, signatureMethod: 'HMAC-SHA256' }));
    try {
      expect((await onFake.request({ method: 'GET', path: '/v1p1/orgs', query: [] })).status).toBe(200);
      expect((await onReal.request({ method: 'GET', path: '/v1p1/orgs', query: [] })).status).toBe(401);
    } finally {
      await onFake.close();
      await onReal.close();
      await sb.close();
    }
  });
});
