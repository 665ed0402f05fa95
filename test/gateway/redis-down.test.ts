import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../cache/redis-env.js';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

// The cache never causes an error: with its Redis unreachable from the start, the gateway
// serves from the district and its own memory.
let stack: Stack;
let token: string;

beforeAll(async () => {
  const port = await freePort();
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    cache: { store: `redis://:hunter2-password@127.0.0.1:${port}` },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

describe('with Redis unreachable', () => {
  it('starts, answers from the district, then from memory, and never fails a request', async () => {
    const get = () => stack.http.get('/ims/oneroster/v1p1/orgs?limit=2').set('authorization', `Bearer ${token}`);
    const started = Date.now();
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await get();
    expect(second.status).toBe(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stack.sandboxes.springfield!.hitCount()).toBe(1);
    const logs = stack.logs.join('');
    expect(logs).not.toContain('hunter2-password');
    expect(stack.logs.filter((l) => l.includes('cache store unavailable')).length).toBeLessThanOrEqual(1);
  });
});
