// admin.listen: /metrics and /admin on a listener of their own (a private interface), gone from
// the public one, where clients cannot reach them even percent-encoded; OneRoster stays public.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    extra: { admin: { token: ADMIN, listen: { host: '127.0.0.1', port: 0 } } },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const at = (base: string, path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe('admin.listen', () => {
  it('serves /metrics and /admin there, and not on the public listener', async () => {
    const ops = stack.gateway.adminUrl!;
    expect(ops).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ops).not.toBe(stack.gateway.url);
    const metrics = await at(ops, '/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('oneroster_gateway_build_info');
    const purge = await fetch(`${ops}/admin/cache/districts/springfield`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(purge.status).toBeLessThan(300);
    for (const path of ['/metrics', '/admin/cache/districts/springfield', '/%61dmin/cache/districts/springfield', '/%6detrics']) {
      const res = await fetch(`${stack.gateway.url}${path}`, { method: path.includes('admin') ? 'DELETE' : 'GET', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { imsx_codeMajor: string }).imsx_codeMajor, path).toBe('failure');
    }
  });

  it('leaves OneRoster and tokens on the public listener only; health checks on both', async () => {
    const ops = stack.gateway.adminUrl!;
    expect((await at(stack.gateway.url, '/ims/oneroster/v1p1/orgs?limit=1', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await at(ops, '/ims/oneroster/v1p1/orgs?limit=1', { authorization: `Bearer ${token}` })).status).toBe(404);
    expect((await fetch(`${ops}/oauth/token`, { method: 'POST' })).status).toBe(404);
    for (const base of [stack.gateway.url, ops]) expect((await at(base, '/healthz')).status).toBe(200);
  });

  it('refuses the public port for it, naming the field', () => {
    const yaml = JSON.stringify({
      server: { port: 8080 },
      auth: { tokenSecret: 'x'.repeat(40), clients: [] },
      admin: { token: ADMIN, listen: { port: 8080 } },
    });
    expect(() => parseConfig(yaml, {}, 'gateway.yaml')).toThrow(ConfigError);
    expect(() => parseConfig(yaml, {}, 'gateway.yaml')).toThrow(/admin\.listen\.port: must differ from server\.port \(8080\)/);
  });
});
