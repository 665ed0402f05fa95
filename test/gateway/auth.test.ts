import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/clients.js';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let now = Date.now();
const WEIRD_SECRET = 'p+ss%20w:rd/with&odd=chars';

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'springfield', sandbox: oauth1Sandbox() },
      { id: 'shelbyville', sandbox: oauth1Sandbox({ seed: 2 }) },
    ],
    clients: [
      { clientId: 'full', clientSecret: 'full-secret-value', districts: ['springfield'], scopes: ALL_SCOPES },
      { clientId: 'core', clientSecret: 'core-secret-value', districts: ['springfield'], scopes: ['roster-core.readonly'] },
      { clientId: 'hashed', clientSecretSha256: sha256Hex('hashed-secret-value'), districts: ['*'], scopes: ['roster.readonly'] },
      { clientId: 'weird', clientSecret: WEIRD_SECRET, districts: ['springfield'], scopes: ['gradebook.readonly'] },
    ],
    tokenTtlSeconds: 120,
    now: () => now,
  });
});
afterAll(() => stack?.close());

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const tokenReq = () => request(stack.gateway.url).post('/oauth/token').type('form');

describe('POST /oauth/token', () => {
  it('issues a bearer token for HTTP Basic credentials', async () => {
    const res = await tokenReq().set('authorization', basic('full', 'full-secret-value')).send('grant_type=client_credentials');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 120 });
    expect(res.body.scope.split(' ').sort()).toEqual([...ALL_SCOPES].sort());
    expect(typeof res.body.access_token).toBe('string');
  });

  it('accepts raw and form-urlencoded Basic values, and body credentials', async () => {
    const raw = await tokenReq().set('authorization', basic('weird', WEIRD_SECRET)).send('grant_type=client_credentials');
    expect(raw.status).toBe(200);
    const encoded = await tokenReq()
      .set('authorization', basic('weird', encodeURIComponent(WEIRD_SECRET)))
      .send('grant_type=client_credentials');
    expect(encoded.status).toBe(200);
    const body = await tokenReq().send(`grant_type=client_credentials&client_id=weird&client_secret=${encodeURIComponent(WEIRD_SECRET)}`);
    expect(body.status).toBe(200);
  });

  it('accepts clientSecretSha256 clients', async () => {
    const res = await tokenReq().send('grant_type=client_credentials&client_id=hashed&client_secret=hashed-secret-value');
    expect(res.status).toBe(200);
  });

  it('narrows scopes on request, echoing each scope as it was asked for (1EdTech URI or short name)', async () => {
    const uri = (s: string) => `https://purl.imsglobal.org/spec/or/v1p2/scope/${s}`;
    const ask = async (scope: string) => {
      const res = await tokenReq().set('authorization', basic('full', 'full-secret-value')).send(`grant_type=client_credentials&scope=${encodeURIComponent(scope)}`);
      expect(res.status, scope).toBe(200);
      // The token itself holds short names, whatever the spelling asked for.
      const districts = await stack.http.get('/districts').set('authorization', `Bearer ${res.body.access_token}`);
      return { scope: res.body.scope as string, districts: districts.status, claims: JSON.parse(Buffer.from(res.body.access_token.split('.')[1], 'base64url').toString()).scope };
    };
    // requests-oauthlib compares the answer with its request and raises "Scope has changed" on any difference.
    const uris = `${uri('roster.readonly')} ${uri('gradebook.readonly')}`;
    expect(await ask(uris)).toEqual({ scope: uris, districts: 200, claims: 'roster.readonly gradebook.readonly' });
    expect((await ask('roster-core.readonly gradebook.readonly')).scope).toBe('roster-core.readonly gradebook.readonly');
    const mixed = await ask(`${uri('roster-core.readonly')} gradebook.readonly`);
    expect(mixed.scope).toBe(`${uri('roster-core.readonly')} gradebook.readonly`);
    expect(mixed.claims).toBe('roster-core.readonly gradebook.readonly');
    // A scope asked twice (in two spellings) is granted and echoed once, as first asked.
    expect((await ask(`roster.readonly  ${uri('roster.readonly')}`)).scope).toBe('roster.readonly');
    const none = await tokenReq().set('authorization', basic('full', 'full-secret-value')).send('grant_type=client_credentials');
    expect(none.body.scope.split(' ').sort()).toEqual([...ALL_SCOPES].sort());
  });

  it('refuses any repeated form parameter with 400 invalid_request (RFC 6749 §3.2)', async () => {
    const good = 'grant_type=client_credentials&client_id=full&client_secret=full-secret-value';
    for (const extra of ['grant_type=client_credentials', 'client_id=full', 'client_secret=full-secret-value', 'scope=roster.readonly&scope=roster.readonly', 'foo=1&foo=2', 'client%5Fid=full']) {
      const res = await tokenReq().send(`${good}&${extra}`);
      expect(res.status, extra).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', imsx_codeMajor: 'failure' });
      expect(res.body.error_description).toMatch(/repeated/);
      expect(res.body.access_token).toBeUndefined();
    }
    // Once each is fine.
    expect((await tokenReq().send(`${good}&scope=roster.readonly&foo=1`)).status).toBe(200);
  });

  it('answers RFC 6749 errors inside the OneRoster status-info shape', async () => {
    const cases: Array<[request.Test, number, string]> = [
      [tokenReq().set('authorization', basic('full', 'wrong')).send('grant_type=client_credentials'), 401, 'invalid_client'],
      [tokenReq().send('grant_type=client_credentials&client_id=nobody&client_secret=x'), 401, 'invalid_client'],
      [tokenReq().send('grant_type=client_credentials'), 401, 'invalid_client'],
      [tokenReq().set('authorization', basic('full', 'full-secret-value')).send('grant_type=password'), 400, 'unsupported_grant_type'],
      [tokenReq().set('authorization', basic('full', 'full-secret-value')).send(''), 400, 'invalid_request'],
      [tokenReq().set('authorization', basic('core', 'core-secret-value')).send('grant_type=client_credentials&scope=roster.readonly'), 400, 'invalid_scope'],
      [tokenReq().set('authorization', basic('core', 'core-secret-value')).send('grant_type=client_credentials&scope=everything'), 400, 'invalid_scope'],
      [
        tokenReq().set('authorization', basic('full', 'full-secret-value')).send('grant_type=client_credentials&client_id=full&client_secret=full-secret-value'),
        400,
        'invalid_request',
      ],
      [request(stack.gateway.url).post('/oauth/token').set('content-type', 'application/json').send('{}'), 400, 'invalid_request'],
    ];
    for (const [req, status, error] of cases) {
      const res = await req;
      expect(res.status, error).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toMatchObject({ error, imsx_codeMajor: 'failure', imsx_severity: 'error' });
      expect(res.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBeTypeOf('string');
    }
    const bad = await tokenReq().set('authorization', basic('full', 'wrong')).send('grant_type=client_credentials');
    expect(bad.headers['www-authenticate']).toMatch(/^Basic/);
  });
});

describe('Bearer tokens on OneRoster routes', () => {
  it('answers 401 with WWW-Authenticate: Bearer without a valid token', async () => {
    for (const auth of [undefined, 'Bearer', 'Bearer not-a-token', 'Basic abc', `Bearer ${'a'.repeat(5000)}`]) {
      const req = request(stack.gateway.url).get('/ims/oneroster/v1p1/users');
      const res = await (auth ? req.set('authorization', auth) : req);
      expect(res.status, String(auth).slice(0, 20)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="oneroster-gateway"/);
      expect(res.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
      expect(res.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unauthorized');
    }
    expect(stack.sandboxes.springfield!.hitCount()).toBe(0);
  });

  it('expires tokens after tokenTtlSeconds', async () => {
    const token = await stack.token('full', 'full-secret-value');
    const ok = await stack.http.get('/ims/oneroster/v1p1/orgs').set('authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    now += 121_000;
    const expired = await stack.http.get('/ims/oneroster/v1p1/orgs').set('authorization', `Bearer ${token}`);
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('enforces the scope matrix: core, relationship, demographics, gradebook writes', async () => {
    const core = await stack.token('core', 'core-secret-value');
    const full = await stack.token('full', 'full-secret-value');
    const narrow = await stack.token('full', 'full-secret-value', 'roster.readonly');
    const get = (t: string, p: string) => stack.http.get(`/ims/oneroster/v1p1${p}`).set('authorization', `Bearer ${t}`);
    const before = stack.sandboxes.springfield!.hitCount();
    const refused = [
      await get(core, '/classes/x/students'),
      await get(core, '/demographics'),
      await get(core, '/lineItems'),
      await get(narrow, '/demographics'),
      await get(narrow, '/lineItems'),
      await stack.http.put('/ims/oneroster/v1p1/lineItems/li-x').set('authorization', `Bearer ${narrow}`).send({ lineItem: {} }),
      await stack.http.delete('/ims/oneroster/v1p1/results/r-x').set('authorization', `Bearer ${core}`),
    ];
    for (const res of refused) {
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('insufficient_scope');
      expect(res.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('forbidden');
    }
    // Refusals are decided before any upstream call.
    expect(stack.sandboxes.springfield!.hitCount()).toBe(before);
    expect((await get(core, '/users?limit=1')).status).toBe(200);
    expect((await get(full, '/demographics?limit=1')).status).toBe(200);
    expect((await get(full, '/lineItems?limit=1')).status).toBe(200);
  });

  it('answers 403 for a district the client may not see, 404 for an unknown one', async () => {
    const token = await stack.token('full', 'full-secret-value');
    const forbidden = await stack.http.get('/districts/shelbyville/ims/oneroster/v1p1/users').set('authorization', `Bearer ${token}`);
    expect(forbidden.status).toBe(403);
    const unknown = await stack.http.get('/districts/nowhere/ims/oneroster/v1p1/users').set('authorization', `Bearer ${token}`);
    expect(unknown.status).toBe(404);
    expect(stack.sandboxes.shelbyville!.hitCount()).toBe(0);
  });
});
