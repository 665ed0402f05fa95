// Injected faults, latency, hit counting and close() with hung requests.

import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { call, root, startBearer, TOKEN } from './helpers.js';

let sb: TestSandbox;

beforeAll(async () => {
  sb = await startBearer({ version: 'v1p2', users: 50 });
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.clearFaults();
  sb.resetHits();
});

const orgs = (): string => `${root(sb)}/orgs`;

describe('faults', () => {
  it('status: versioned error body by default, custom headers, for `times` requests', async () => {
    sb.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '2' } }, { times: 2 });
    const first = await call(orgs());
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(first.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('server_busy');
    expect((await call(orgs())).status).toBe(429);
    expect((await call(orgs())).status).toBe(200);
  });

  it('status with a custom body', async () => {
    sb.injectFault({ kind: 'status', status: 500, body: 'boom', headers: { 'content-type': 'text/plain' } });
    const got = await call(orgs());
    expect(got.status).toBe(500);
    expect(got.body).toBe('boom');
  });

  it('applies only to paths containing `match`', async () => {
    sb.injectFault({ kind: 'status', status: 503 }, { match: '/users' });
    expect((await call(orgs())).status).toBe(200);
    expect((await call(`${root(sb)}/users?limit=1`)).status).toBe(503);
    expect((await call(`${root(sb)}/users?limit=1`)).status).toBe(200);
  });

  it('html: an HTML error page, 502 by default', async () => {
    sb.injectFault({ kind: 'html' });
    const res = await fetch(orgs(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('<html>');
  });

  it('badJson: 200 application/json that does not parse', async () => {
    sb.injectFault({ kind: 'badJson' });
    const res = await fetch(orgs(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    await expect(res.json()).rejects.toThrow();
  });

  it('reset: the socket is destroyed without a response', async () => {
    sb.injectFault({ kind: 'reset' });
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const req = request(orgs(), { headers: { authorization: `Bearer ${TOKEN}` } }, () => reject(new Error('got a response')));
      req.on('error', resolve);
      req.end();
    });
    expect(err.code).toBe('ECONNRESET');
    expect(sb.hits.at(-1)?.status).toBe(0);
  });

  it('delay: responds normally after the delay', async () => {
    sb.injectFault({ kind: 'delay', ms: 150 });
    const t0 = performance.now();
    expect((await call(orgs())).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('faults do not touch the token endpoint', async () => {
    sb.injectFault({ kind: 'status', status: 500 });
    const res = await fetch(sb.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' });
    expect(res.status).toBe(401); // no OAuth2 client on a bearer sandbox, but no fault either
    expect((await call(orgs())).status).toBe(500);
  });
});

describe('hits', () => {
  it('records method, raw path and query, status and whether auth passed', async () => {
    await call(`${orgs()}?limit=2&filter=type%3D%27school%27`);
    await fetch(orgs()); // no credentials
    await call(`${root(sb)}/users/nobody`);
    expect(sb.hits).toEqual([
      { method: 'GET', path: '/ims/oneroster/rostering/v1p2/orgs', query: 'limit=2&filter=type%3D%27school%27', status: 200, authorized: true },
      { method: 'GET', path: '/ims/oneroster/rostering/v1p2/orgs', query: '', status: 401, authorized: false },
      { method: 'GET', path: '/ims/oneroster/rostering/v1p2/users/nobody', query: '', status: 404, authorized: true },
    ]);
    expect(sb.hitCount('/ims/oneroster/rostering/v1p2/orgs')).toBe(2);
    expect(sb.hitCount()).toBe(3);
    sb.resetHits();
    expect(sb.hitCount()).toBe(0);
  });
});

describe('latency and shutdown', () => {
  it('latencyMs delays every data response', async () => {
    const slow = await startBearer({ version: 'v1p1', users: 20, latencyMs: 120 });
    try {
      const t0 = performance.now();
      expect((await call(`${root(slow)}/orgs`)).status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
    } finally {
      await slow.close();
    }
  });

  it('close() ends hung requests and keep-alive sockets promptly', async () => {
    const s = await startBearer({ version: 'v1p1', users: 20 });
    await call(`${root(s)}/orgs`); // leaves a keep-alive socket in fetch's pool
    s.injectFault({ kind: 'hang' });
    const hung = fetch(`${root(s)}/orgs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const settled = hung.then(() => 'responded', () => 'failed');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.hits.at(-1)?.status).toBe(0);
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await settled).toBe('failed');
  });

  it('close() also cuts a pending delay fault', async () => {
    const s = await startBearer({ version: 'v1p1', users: 20 });
    s.injectFault({ kind: 'delay', ms: 60_000 });
    const pending = fetch(`${root(s)}/orgs`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(() => 'responded', () => 'failed');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await pending).toBe('failed');
  });
});
