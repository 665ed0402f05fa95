// OAuth 2.0 client credentials and static bearer tokens, with a fake clock for expiry.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { startBearer, TOKEN } from './helpers.js';

const CLIENT_ID = 'gateway client';
const CLIENT_SECRET = 'p@ss:word+/=';
let clock = Date.UTC(2025, 8, 1);
let sb: TestSandbox;

beforeAll(async () => {
  sb = await startSandbox({
    version: 'v1p2',
    auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenTtlSeconds: 60 },
    users: 40,
    now: () => clock,
  });
});
afterAll(() => sb.close());

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

async function tokenRequest(body: string, authorization?: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(sb.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function dataStatus(token: string): Promise<number> {
  const res = await fetch(`${sb.baseUrl}/rostering/v1p2/orgs`, { headers: { authorization: `Bearer ${token}` } });
  return res.status;
}

describe('token endpoint', () => {
  it('issues a token for HTTP Basic credentials and echoes the scope', async () => {
    const scope = 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly';
    const got = await tokenRequest(form({ grant_type: 'client_credentials', scope }), basic(CLIENT_ID, CLIENT_SECRET));
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ token_type: 'bearer', expires_in: 60, scope });
    expect(typeof got.body.access_token).toBe('string');
    expect(got.headers.get('cache-control')).toBe('no-store');
    expect(await dataStatus(got.body.access_token as string)).toBe(200);
  });

  it('decodes form-urlencoded id and secret inside Basic (RFC 6749 §2.3.1)', async () => {
    const encoded = basic(encodeURIComponent(CLIENT_ID).replace(/%20/g, '+'), encodeURIComponent(CLIENT_SECRET));
    expect((await tokenRequest(form({ grant_type: 'client_credentials' }), encoded)).status).toBe(200);
  });

  it('accepts client_id / client_secret in the form body', async () => {
    const got = await tokenRequest(form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
    expect(got.status).toBe(200);
    expect(await dataStatus(got.body.access_token as string)).toBe(200);
  });

  it('answers 401 invalid_client for a wrong secret', async () => {
    const got = await tokenRequest(form({ grant_type: 'client_credentials' }), basic(CLIENT_ID, 'nope'));
    expect(got.status).toBe(401);
    expect(got.body.error).toBe('invalid_client');
    expect(got.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('answers 400 unsupported_grant_type for other grants', async () => {
    const got = await tokenRequest(form({ grant_type: 'password', username: 'a', password: 'b' }), basic(CLIENT_ID, CLIENT_SECRET));
    expect(got.status).toBe(400);
    expect(got.body.error).toBe('unsupported_grant_type');
  });

  it('refuses two client authentication methods at once', async () => {
    const got = await tokenRequest(form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }), basic(CLIENT_ID, CLIENT_SECRET));
    expect(got.status).toBe(400);
  });

  it('counts token requests separately from data hits', async () => {
    const tokensBefore = sb.tokenRequests;
    const hitsBefore = sb.hits.length;
    await tokenRequest(form({ grant_type: 'client_credentials' }), basic(CLIENT_ID, 'bad'));
    await tokenRequest(form({ grant_type: 'client_credentials' }), basic(CLIENT_ID, CLIENT_SECRET));
    expect(sb.tokenRequests).toBe(tokensBefore + 2);
    expect(sb.hits.length).toBe(hitsBefore);
  });
});

describe('token lifecycle', () => {
  async function freshToken(): Promise<string> {
    const got = await tokenRequest(form({ grant_type: 'client_credentials' }), basic(CLIENT_ID, CLIENT_SECRET));
    return got.body.access_token as string;
  }

  it('expires tokens after tokenTtlSeconds of the injected clock', async () => {
    const token = await freshToken();
    clock += 59_000;
    expect(await dataStatus(token)).toBe(200);
    clock += 1_000;
    expect(await dataStatus(token)).toBe(401);
  });

  it('invalidates every issued token on revokeTokens()', async () => {
    const a = await freshToken();
    const b = await freshToken();
    expect(a).not.toBe(b);
    sb.revokeTokens();
    expect(await dataStatus(a)).toBe(401);
    expect(await dataStatus(b)).toBe(401);
    expect(await dataStatus(await freshToken())).toBe(200);
  });

  it('rejects unknown tokens with a 1.2 error body and a Bearer challenge', async () => {
    const res = await fetch(`${sb.baseUrl}/rostering/v1p2/orgs`, { headers: { authorization: 'Bearer made-up' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer.*invalid_token/);
    const body = (await res.json()) as { imsx_CodeMinor: { imsx_codeMinorField: { imsx_codeMinorFieldValue: string }[] } };
    expect(body.imsx_CodeMinor.imsx_codeMinorField[0]?.imsx_codeMinorFieldValue).toBe('unauthorisedrequest');
  });
});

describe('static bearer flavour', () => {
  it('accepts exactly the configured token', async () => {
    const b = await startBearer({ version: 'v1p1', users: 20 });
    try {
      const ok = await fetch(`${b.baseUrl}/v1p1/orgs`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      const wrong = await fetch(`${b.baseUrl}/v1p1/orgs`, { headers: { authorization: `Bearer ${TOKEN}x` } });
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { statusInfoSet: { imsx_codeMinor: string }[] }).statusInfoSet[0]?.imsx_codeMinor).toBe('unauthorized');
      expect((await fetch(`${b.baseUrl}/v1p1/orgs`)).status).toBe(401);
      // The token endpoint exists on every flavour but has no client here.
      const token = await fetch(b.tokenUrl, { method: 'POST', headers: { authorization: basic('a', 'b') }, body: 'grant_type=client_credentials' });
      expect(token.status).toBe(401);
    } finally {
      await b.close();
    }
  });
});
