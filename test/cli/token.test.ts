import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/auth/tokens.js';
import { tokenCommand } from '../../src/cli/token.js';
import { ALL_SCOPES, oauth1Sandbox, startStack, TOKEN_SECRET, type Stack } from '../helpers/stack.js';
import { memoryIO, stackConfigFile } from './helpers.js';

let stack: Stack;
let config: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [
      { clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES },
      { clientId: 'narrow', clientSecret: 'narrow-secret-value', districts: ['springfield'], scopes: ['roster-core.readonly'] },
    ],
  });
  config = stackConfigFile(stack);
});
afterAll(() => stack?.close());

async function token(args: string[]) {
  const io = memoryIO();
  const code = await tokenCommand.run([...args, '--config', config], io);
  return { code, out: io.out(), err: io.err() };
}

describe('token', () => {
  it('prints a bare token that the gateway accepts as a Bearer token', async () => {
    const r = await token(['--client', 'app']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const res = await stack.http.get('/ims/oneroster/v1p1/users?limit=2').set('authorization', `Bearer ${r.out.trim()}`);
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(2);
  });

  it('grants every scope of the client by default, as POST /oauth/token does', async () => {
    const r = await token(['--client', 'app', '--json']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const viaRoute = await stack.http
      .post('/oauth/token')
      .type('form')
      .send('grant_type=client_credentials&client_id=app&client_secret=app-secret-value');
    expect(body.scope).toBe(viaRoute.body.scope);
    const claims = createTokenService({ secret: TOKEN_SECRET, ttlSeconds: 3600 }).verify(body.access_token)!;
    expect(claims.clientId).toBe('app');
    expect(claims.scopes).toEqual(ALL_SCOPES);
  });

  it('narrows to the requested scopes (short names or 1EdTech URIs); the narrowed token is refused what it lacks', async () => {
    const r = await token(['--client', 'app', '--json', '--scope', 'roster-core.readonly https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly']);
    expect(r.code).toBe(0);
    const { access_token, scope } = JSON.parse(r.out) as { access_token: string; scope: string };
    // Echoed as asked (requests-oauthlib compares the scope it sent with the one it gets).
    expect(scope).toBe('roster-core.readonly https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly');
    const auth = `Bearer ${access_token}`;
    expect((await stack.http.get('/ims/oneroster/v1p1/users?limit=1').set('authorization', auth)).status).toBe(200);
    expect((await stack.http.get('/ims/oneroster/v1p1/demographics?limit=1').set('authorization', auth)).status).toBe(403);
  });

  it('refuses a scope the client was not granted, and an unknown scope', async () => {
    const denied = await token(['--client', 'narrow', '--scope', 'roster.readonly']);
    expect(denied.code).toBe(1);
    expect(denied.out).toBe('');
    expect(denied.err).toContain('scope not granted to client "narrow": roster.readonly');
    const unknown = await token(['--client', 'narrow', '--scope', 'roster.everything']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('unknown scope: roster.everything');
  });

  it('exits 1 with a clear message for an unknown client', async () => {
    const r = await token(['--client', 'nobody']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('oneroster-gateway token: no client "nobody" in the config (clients: app, narrow)\n');
  });

  it('exits 1 on an invalid config, naming the field', async () => {
    const io = memoryIO({ env: { GATEWAY_CONFIG: '/nonexistent.yaml' } });
    expect(await tokenCommand.run(['--client', 'app'], io)).toBe(1);
    expect(io.err()).toContain('cannot read config file (ENOENT)');
  });
});
