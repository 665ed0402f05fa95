import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { expectValid, statusInfoSchemas } from '../support/oneroster-schemas.js';

// GET /districts/{id}: one district's entry, as GET /districts lists it; a district the caller
// may not see answers as one that does not exist. The admin token sees every district.
const ADMIN = 'districts-admin-token-0123456789';
let stack: Stack;
let noAdmin: Stack;
let token: string;

beforeAll(async () => {
  const districts = [
    { id: 'springfield', sandbox: oauth1Sandbox({ users: 20 }) },
    { id: 'shelbyville', sandbox: bearerSandbox({ users: 20 }) },
  ];
  const clients = [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }];
  stack = await startStack({ districts, clients, admin: { token: ADMIN } });
  noAdmin = await startStack({ districts: [{ id: 'springfield', sandbox: oauth1Sandbox({ users: 20 }) }], clients });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(async () => {
  await stack?.close();
  await noAdmin?.close();
});

const get = (path: string, bearer?: string, on = stack) => {
  const req = on.http.get(path);
  return bearer === undefined ? req : req.set('authorization', `Bearer ${bearer}`);
};

describe('GET /districts/{id}', () => {
  it("answers the client's district in the shape of its GET /districts item", async () => {
    const list = await get('/districts', token);
    expect(list.status).toBe(200);
    expect(list.body.districts.map((d: { id: string }) => d.id)).toEqual(['springfield']);
    const one = await get('/districts/springfield', token);
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toMatch(/application\/json/);
    expect(one.body).toEqual({ district: list.body.districts[0] });
    expect(one.body.district).toMatchObject({ id: 'springfield', name: 'District springfield', version: 'v1p1', authType: 'oauth1', source: 'config' });
  });

  it('answers 404 in the status-info shape, the same for an unknown id and for a district the client may not see', async () => {
    const hidden = await get('/districts/shelbyville', token);
    const unknown = await get('/districts/nowhere', token);
    for (const res of [hidden, unknown]) {
      expect(res.status).toBe(404);
      expectValid(statusInfoSchemas.v1p2, res.body);
    }
    expect(hidden.body).toEqual(unknown.body);
    expect(JSON.stringify(hidden.body)).not.toContain('shelbyville');
    // Hostile ids get the same answer, never echoed.
    const hostile = await get(`/districts/${encodeURIComponent('<script>' + 'x'.repeat(3000))}`, token);
    expect(hostile.status).toBe(404);
    expect(hostile.body).toEqual(unknown.body);
  });

  it('answers 401 without a valid token, before saying anything of the district', async () => {
    for (const bearer of [undefined, 'not-a-token', `${ADMIN}x`]) {
      const res = await get('/districts/springfield', bearer);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });
});

describe('the admin token on /districts', () => {
  it('lists every district and reads any one of them', async () => {
    const list = await get('/districts', ADMIN);
    expect(list.status).toBe(200);
    expect(list.body.districts.map((d: { id: string }) => d.id).sort()).toEqual(['shelbyville', 'springfield']);
    const one = await get('/districts/shelbyville', ADMIN);
    expect(one.status).toBe(200);
    expect(one.body.district).toMatchObject({ id: 'shelbyville', authType: 'bearer' });
    expect((await get('/districts/nowhere', ADMIN)).status).toBe(404);
  });

  it('is only a token when the config has an admin block: otherwise it is an invalid client token', async () => {
    expect((await get('/districts', ADMIN, noAdmin)).status).toBe(401);
    expect((await get('/districts/springfield', ADMIN, noAdmin)).status).toBe(401);
  });

  it('does not reach the OneRoster routes: the admin token is no client', async () => {
    const res = await get('/districts/springfield/ims/oneroster/v1p1/users?limit=1', ADMIN);
    expect(res.status).toBe(401);
  });
});
