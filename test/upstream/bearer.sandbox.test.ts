import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/testing.js';
import { createUpstreamClient } from '../../src/upstream/client.js';
import { district } from './district.js';

type TestSandbox = Awaited<ReturnType<typeof startSandbox>>;
const TOKEN = 'static-bearer-token_123';
let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ version: 'v1p2', auth: { type: 'bearer', token: TOKEN }, port: 0, users: 50 });
});
afterAll(async () => {
  await sandbox.close();
});

describe('bearer against the sandbox (v1p2)', () => {
  it('sends the token and gets data', async () => {
    const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: TOKEN }));
    sandbox.resetHits();
    const res = await c.request({ method: 'GET', path: '/rostering/v1p2/users', query: [['limit', '3']] });
    await c.close();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).users).toHaveLength(3);
    expect(sandbox.hits.map((h) => h.authorized)).toEqual([true]);
  });

  it('a wrong token is a 401 response', async () => {
    const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: 'nope' }));
    sandbox.resetHits();
    const res = await c.request({ method: 'GET', path: '/rostering/v1p2/users', query: [] });
    await c.close();
    expect(res.status).toBe(401);
    expect(sandbox.hits.map((h) => h.authorized)).toEqual([false]);
  });
});
