import { createServer } from 'node:net';
import request from 'supertest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, oauth2Sandbox, startStack, UPSTREAM_SECRETS, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;
let deadPort: number;

beforeAll(async () => {
  // A port with nothing listening: bind, note it, close.
  deadPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  stack = await startStack({
    districts: [
      // One attempt: each fault reaches the client as it is (retries are tested below and in test/upstream/retry.test.ts).
      { id: 'flaky', sandbox: oauth1Sandbox(), extra: { upstream: { timeoutMs: 400, connectTimeoutMs: 300, retry: { maxAttempts: 1 } } } },
      { id: 'modern', sandbox: oauth2Sandbox() },
      { id: 'retrying', sandbox: oauth1Sandbox(), extra: { upstream: { retry: { baseDelayMs: 10, maxDelayMs: 50 } } } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const get = (path = '/districts/flaky/ims/oneroster/v1p1/users?limit=3') => stack.http.get(path).set('authorization', `Bearer ${token}`);

function expectClean(body: unknown) {
  const text = JSON.stringify(body);
  for (const s of Object.values(stack.sandboxes)) {
    expect(text).not.toContain(s.url);
    expect(text).not.toContain(String(new URL(s.url).port));
  }
  for (const secret of UPSTREAM_SECRETS) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack frames
}

describe('upstream faults become clear JSON errors', () => {
  it.each([
    ['a timeout', { kind: 'hang' } as const, 504],
    ['a 500', { kind: 'status', status: 500, body: '{"imsx_codeMajor":"failure","imsx_description":"db down at http://10.0.0.5/x"}' } as const, 502],
    ['an HTML page', { kind: 'html', status: 200 } as const, 502],
    ['an HTML error', { kind: 'html' } as const, 502],
    ['bad JSON', { kind: 'badJson' } as const, 502],
    ['a connection reset', { kind: 'reset' } as const, 502],
    ['a 503', { kind: 'status', status: 503, headers: { 'retry-after': '7' } } as const, 503],
  ])('%s', async (_name, fault, status) => {
    stack.sandboxes.flaky!.injectFault(fault);
    const res = await get();
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
    expect(res.body.statusInfoSet[0].imsx_description).toMatch(/flaky/);
    expectClean(res.body);
    stack.sandboxes.flaky!.clearFaults();
  });

  it('passes a 429 on with its Retry-After', async () => {
    stack.sandboxes.flaky!.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '12' }, body: '{"statusInfoSet":[{"imsx_codeMinor":"server_busy"}]}' });
    const res = await get();
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('12');
    expect(res.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('server_busy');
  });

  it('retries a read that met a reset and a 503 by default, and the client never sees them', async () => {
    const retrying = stack.sandboxes.retrying!;
    retrying.resetHits();
    retrying.injectFault({ kind: 'reset' }, { match: '/users' });
    retrying.injectFault({ kind: 'status', status: 503 }, { match: '/users' });
    const res = await get('/districts/retrying/ims/oneroster/v1p1/users?limit=3');
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(3);
    expect(retrying.hitCount('/ims/oneroster/v1p1/users')).toBe(3);
    // A 500 is not retried: the district answered, and answering again would not help.
    retrying.injectFault({ kind: 'status', status: 500 }, { match: '/classes' });
    expect((await get('/districts/retrying/ims/oneroster/v1p1/classes?limit=3')).status).toBe(502);
    expect(retrying.hitCount('/ims/oneroster/v1p1/classes')).toBe(1);
  });

  it('passes an upstream 400 with its code on, in the 1.2 shape for a 1.2 district', async () => {
    const res = await get("/districts/modern/ims/oneroster/rostering/v1p2/users?filter=nosuchfield%3D'x'");
    expect(res.status).toBe(400);
    expect(res.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invalid_filter_field');
  });

  it('recovers after a fault: the next request succeeds', async () => {
    stack.sandboxes.flaky!.injectFault({ kind: 'reset' });
    expect((await get()).status).toBe(502);
    expect((await get()).status).toBe(200);
  });

  it('answers 502 for an upstream that refuses connections, naming no address', async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (l: string) => void lines.push(l) } as never });
    const cfg = parseConfig(
      JSON.stringify({
        server: { port: 0, host: '127.0.0.1' },
        auth: { tokenSecret: 'x'.repeat(40), clients: [{ clientId: 'a', clientSecret: 'a-secret-value', districts: ['*'], scopes: ['roster.readonly'] }] },
        districts: [{ id: 'gone', version: 'v1p1', baseUrl: `http://127.0.0.1:${deadPort}/ims/oneroster`, auth: { type: 'bearer', token: 'gone-secret-token' } }],
      }),
      {},
      't',
    );
    const gw = await startGateway(cfg, { logger });
    try {
      const tok = (await request(gw.url).post('/oauth/token').type('form').send('grant_type=client_credentials&client_id=a&client_secret=a-secret-value')).body.access_token;
      const res = await request(gw.url).get('/districts/gone/ims/oneroster/v1p1/users').set('authorization', `Bearer ${tok}`);
      expect(res.status).toBe(502);
      expect(res.body.statusInfoSet[0].imsx_description).toMatch(/could not be reached/);
      expect(JSON.stringify(res.body)).not.toContain(String(deadPort));
      expect(lines.join('')).not.toContain(String(deadPort));
      expect(lines.join('')).not.toContain('gone-secret-token');
    } finally {
      await gw.close();
    }
  });
});
