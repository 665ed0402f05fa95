// A client secret rotated by a config reload (SIGHUP) ends the tokens issued under the old
// secret at once, on every path (the synchronous fresh-hit path too); tokens of clients whose
// secret did not change keep working.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/clients.js';
import { createTokenService } from '../../src/auth/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { ALL_SCOPES, TOKEN_SECRET, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [
      { clientId: 'rotating', clientSecret: 'old-secret-value', districts: ['*'], scopes: ALL_SCOPES },
      { clientId: 'steady', clientSecret: 'steady-secret-value', districts: ['*'], scopes: ALL_SCOPES },
    ],
  });
});
afterAll(() => stack?.close());

const edited = (change: (raw: Record<string, any>) => void): GatewayConfig => {
  const raw = JSON.parse(JSON.stringify(stack.config));
  change(raw);
  return parseConfig(JSON.stringify(raw), {}, 'rotation-test');
};
const client = (raw: Record<string, any>, id: string) => raw.auth.clients.find((c: { clientId: string }) => c.clientId === id);
const orgs = (token: string) => stack.http.get('/districts/springfield/ims/oneroster/v1p1/orgs?limit=1').set('authorization', `Bearer ${token}`);
const tokenFor = (id: string, secret: string) =>
  stack.http.post('/oauth/token').type('form').send(`grant_type=client_credentials&client_id=${id}&client_secret=${secret}`);

it('refuses tokens issued under a rotated secret with 401 invalid_token; new tokens and other clients work', async () => {
  const before = await stack.token('rotating', 'old-secret-value');
  const steady = await stack.token('steady', 'steady-secret-value');
  // Twice: the second answer comes from the fresh-hit path, with its verified-token memo warm.
  expect((await orgs(before)).status).toBe(200);
  expect((await orgs(before)).headers['x-cache']).toMatch(/HIT/);

  await stack.gateway.reload(edited((raw) => (client(raw, 'rotating').clientSecret = 'new-secret-value')));

  for (let i = 0; i < 2; i++) {
    const res = await orgs(before);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(res.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unauthorized');
  }
  expect((await stack.http.get('/districts').set('authorization', `Bearer ${before}`)).status).toBe(401);
  expect((await tokenFor('rotating', 'old-secret-value')).status).toBe(401);
  const after = await stack.token('rotating', 'new-secret-value');
  expect((await orgs(after)).status).toBe(200);
  expect((await orgs(steady)).status).toBe(200);
});

it('keeps tokens when the secret is the same, written as clientSecretSha256 or not', async () => {
  const token = await stack.token('steady', 'steady-secret-value');
  await stack.gateway.reload(
    edited((raw) => {
      const c = client(raw, 'steady');
      delete c.clientSecret;
      c.clientSecretSha256 = sha256Hex('steady-secret-value');
      c.scopes = ['roster.readonly', 'roster-core.readonly'];
    }),
  );
  expect((await orgs(token)).status).toBe(200);
});

it('leaves a token signed without a stamp (the token CLI: no client secret involved) to its expiry', async () => {
  const cli = createTokenService({ secret: TOKEN_SECRET, ttlSeconds: 600 }).issue('rotating', ['roster.readonly']).token;
  expect((await orgs(cli)).status).toBe(200);
  await stack.gateway.reload(edited((raw) => (client(raw, 'rotating').clientSecret = 'third-secret-value')));
  expect((await orgs(cli)).status).toBe(200);
  // A stamp that is not the client's is refused, as after a rotation.
  const forged = createTokenService({ secret: TOKEN_SECRET, ttlSeconds: 600 }).issue('rotating', ['roster.readonly'], 'AAAAAAAAAAAAAAAA').token;
  expect((await orgs(forged)).status).toBe(401);
});
