import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth2Sandbox, startStack, UPSTREAM_SECRETS, type Stack } from '../helpers/stack.js';

// A district whose OAuth2 token URL cannot be reached is down, not refusing the gateway: the
// client gets the network failure's status naming the district, never the URL, host or secret.
let stack: Stack;
let token: string;
let closedPort: number;

beforeAll(async () => {
  // A port nothing listens on: bound, then released.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  stack = await startStack({
    districts: [
      { id: 'refused', sandbox: oauth2Sandbox(), authExtra: { tokenUrl: `http://127.0.0.1:${closedPort}/oauth/token` } },
      // RFC 2606: .invalid never resolves.
      { id: 'nodns', sandbox: oauth2Sandbox(), authExtra: { tokenUrl: 'http://token-host.invalid/oauth/token' } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    cache: { ttlSeconds: 0, staleSeconds: 0 },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const users = (d: string) => stack.http.get(`/districts/${d}/ims/oneroster/rostering/v1p2/users?limit=2`).set('authorization', `Bearer ${token}`);

describe('an OAuth2 token URL that cannot be reached', () => {
  it.each(['refused', 'nodns'])('%s: 502 upstream network failure naming the district and its token endpoint, no data request sent', async (id) => {
    const res = await users(id);
    expect(res.status).toBe(502);
    expect(res.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('internal_server_error');
    expect(res.body.imsx_description).toBe(`District "${id}" could not be reached (its OAuth2 token endpoint).`);
    expect(res.body.imsx_description).not.toMatch(/authenticate|credentials/);
    expect(stack.sandboxes[id]!.hitCount()).toBe(0);
    expect(stack.sandboxes[id]!.tokenRequests).toBe(0);
    // GET /districts says what failed: the network code, not an auth failure.
    const listed = await stack.http.get('/districts').set('authorization', `Bearer ${token}`);
    const entry = (listed.body.districts as Array<{ id: string; health: { lastFailure?: string } }>).find((d) => d.id === id)!;
    expect(entry.health.lastFailure).toBe('UPSTREAM_UNREACHABLE');
  });

  it('LOG_LEVEL=debug: each attempt is logged with the network cause at the token endpoint, and its retry', () => {
    const lines = stack.logs
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"msg":"upstream attempt"') && l.includes('"district":"refused"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ route: 'v1p2/rostering GET /users', attempt: 1, error: 'UPSTREAM_UNREACHABLE', cause: 'ECONNREFUSED', stage: 'token' });
    expect(lines[1]).toMatchObject({ attempt: 2, retryReason: 'network', error: 'UPSTREAM_UNREACHABLE', stage: 'token' });
  });

  it('never shows the token URL, its host or port, or a secret to the client or in the log', async () => {
    const answers = JSON.stringify([(await users('refused')).body, (await users('nodns')).body]);
    const text = answers + stack.logs.join('');
    for (const leak of [`127.0.0.1:${closedPort}`, `:${closedPort}/`, 'token-host.invalid', ...UPSTREAM_SECRETS]) expect(text).not.toContain(leak);
  });
});
