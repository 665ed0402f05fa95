import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/testing.js';
import { createUpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamClient, UpstreamRequest } from '../../src/upstream/types.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';

type TestSandbox = Awaited<ReturnType<typeof startSandbox>>;
const TOKEN = 'fault-test-secret-token';
let sandbox: TestSandbox;
let c: UpstreamClient;
let port: string;

beforeAll(async () => {
  sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: TOKEN }, port: 0, users: 50 });
  port = new URL(sandbox.url).port;
  c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: TOKEN }, { timeoutMs: 300 }));
});
afterAll(async () => {
  await c.close();
  await sandbox.close();
});
beforeEach(() => {
  sandbox.clearFaults();
  sandbox.resetHits();
});

const USERS: UpstreamRequest = { method: 'GET', path: '/v1p1/users', query: [['filter', "status='active'"], ['limit', '1']] };

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  const msg = (err as Error).message;
  expect(msg).toContain('test-district');
  for (const leak of ['127.0.0.1', port, TOKEN, 'http', '/v1p1', 'status']) expect(msg).not.toContain(leak);
  return err as UpstreamError;
}

describe('transport failures against the sandbox', () => {
  it('hang -> UPSTREAM_TIMEOUT within timeoutMs', async () => {
    sandbox.injectFault({ kind: 'hang' });
    const t0 = performance.now();
    expect((await failure(c.request(USERS))).code).toBe('UPSTREAM_TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('delay beyond timeoutMs -> UPSTREAM_TIMEOUT; the next request works', async () => {
    sandbox.injectFault({ kind: 'delay', ms: 1000 });
    expect((await failure(c.request(USERS))).code).toBe('UPSTREAM_TIMEOUT');
    expect((await c.request(USERS)).status).toBe(200);
    expect(sandbox.hitCount()).toBe(2);
  });

  it('delay within timeoutMs is just slow', async () => {
    sandbox.injectFault({ kind: 'delay', ms: 100 });
    const res = await c.request(USERS);
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeGreaterThanOrEqual(90);
  });

  it('reset -> UPSTREAM_UNREACHABLE, no retry behind the caller’s back', async () => {
    sandbox.injectFault({ kind: 'reset' });
    expect((await failure(c.request(USERS))).code).toBe('UPSTREAM_UNREACHABLE');
    expect(sandbox.hitCount()).toBe(1);
  });

  it('html and error statuses are responses, not exceptions', async () => {
    sandbox.injectFault({ kind: 'html', status: 502 });
    const html = await c.request(USERS);
    expect(html.status).toBe(502);
    expect(html.headers['content-type']).toMatch(/html/);
    sandbox.injectFault({ kind: 'status', status: 503, body: '{}', headers: { 'Retry-After': '5' } });
    const busy = await c.request(USERS);
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
  });

  it('a closed port -> UPSTREAM_UNREACHABLE', async () => {
    const gone = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: TOKEN }, port: 0, users: 50 });
    const goneClient = createUpstreamClient(district(gone.baseUrl, { type: 'bearer', token: TOKEN }));
    const gonePort = new URL(gone.url).port;
    await gone.close();
    try {
      const err = await failure(goneClient.request(USERS));
      expect(err.code).toBe('UPSTREAM_UNREACHABLE');
      expect(err.message).not.toContain(gonePort);
    } finally {
      await goneClient.close();
    }
  });
});
