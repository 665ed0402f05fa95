import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../../src/upstream/client.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';
import { upstreamHarness } from './harness.js';
import { parseAuthorization, verifyOAuth1 } from './oauth1-verify.js';

const { server, client } = upstreamHarness();
const BEARER = { type: 'bearer' as const, token: 'tok/en+==' };

describe('request building', () => {
  it('joins baseUrl, path and an RFC 3986 query; no "?" when the query is empty', async () => {
    const s = await server();
    const c = client(district(`${s.origin}/ims/oneroster`, BEARER));
    await c.request({ method: 'GET', path: '/v1p1/users', query: [['filter', "status='active' AND familyName~'o'"], ['limit', '2']] });
    await c.request({ method: 'GET', path: '/v1p1/orgs', query: [] });
    expect(s.hits.map((h) => h.url)).toEqual([
      '/ims/oneroster/v1p1/users?filter=status%3D%27active%27%20AND%20familyName~%27o%27&limit=2',
      '/ims/oneroster/v1p1/orgs',
    ]);
  });

  it('sends accept, the bearer token as is, caller headers, and a JSON content-type for bodies', async () => {
    const s = await server();
    const c = client(district(`${s.origin}/x`, BEARER));
    await c.request({ method: 'PUT', path: '/results/r1', query: [], body: '{"score":1}', headers: { 'X-Request-Id': 'abc' } });
    const h = s.hits[0]!;
    expect(h.method).toBe('PUT');
    expect(h.body).toBe('{"score":1}');
    expect(h.headers.accept).toBe('application/json');
    expect(h.headers['content-type']).toBe('application/json');
    expect(h.headers.authorization).toBe('Bearer tok/en+==');
    expect(h.headers['x-request-id']).toBe('abc');
  });

  it('never lets caller headers set authorization, host or hop-by-hop headers', async () => {
    const s = await server();
    const c = client(district(`${s.origin}/x`, BEARER));
    await c.request({
      method: 'GET',
      path: '/users',
      query: [],
      headers: { Authorization: 'Bearer evil', host: 'evil.example', Connection: 'close', 'Transfer-Encoding': 'chunked', Upgrade: 'h2c', TE: 'trailers', 'Proxy-Authorization': 'x' },
    });
    const h = s.hits[0]!.headers;
    expect(h.authorization).toBe('Bearer tok/en+==');
    expect(h.host).toBe(`127.0.0.1:${s.port}`);
    expect(h.connection).not.toBe('close');
    expect(h['transfer-encoding']).toBeUndefined();
    expect(h.upgrade).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
  });

  it('rejects a path with a query or no leading slash', async () => {
    const c = client(district('http://127.0.0.1:9/x', BEARER));
    await expect(c.request({ method: 'GET', path: '/users?limit=1', query: [] })).rejects.toThrow(/path/);
    await expect(c.request({ method: 'GET', path: 'users', query: [] })).rejects.toThrow(/path/);
  });
});

describe('responses', () => {
  it('lower-cases header names and joins repeated headers, set-cookie included', async () => {
    const s = await server((_req, res) => {
      res.setHeader('X-Total-Count', '7');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('Link', ['<a>; rel="next"', '<b>; rel="last"']);
      res.end('body');
    });
    const c = client(district(s.origin, BEARER));
    const res = await c.request({ method: 'GET', path: '/users', query: [] });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('body');
    expect(res.headers['x-total-count']).toBe('7');
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
    expect(res.headers.link).toBe('<a>; rel="next", <b>; rel="last"');
    expect(Object.keys(res.headers).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it('does not follow redirects', async () => {
    const s = await server((req, res) => {
      res.statusCode = req.url === '/users' ? 302 : 200;
      res.setHeader('location', '/elsewhere');
      res.end();
    });
    const c = client(district(s.origin, BEARER));
    const res = await c.request({ method: 'GET', path: '/users', query: [] });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/elsewhere');
    expect(s.hits).toHaveLength(1);
  });

  it('refuses a body beyond the size limit', async () => {
    const s = await server((_req, res) => {
      res.end(Buffer.alloc(64 * 1024, 'x'));
    });
    const c = client(district(s.origin, BEARER), { maxBodyBytes: 1024 });
    await expect(c.request({ method: 'GET', path: '/big', query: [] })).rejects.toMatchObject({ code: 'UPSTREAM_TOO_LARGE', message: expect.not.stringContaining('127.0.0.1') });
    // The slot and the pool survive: a normal request still works.
    const small = await server();
    const c2 = client(district(small.origin, BEARER), { maxBodyBytes: 1024 });
    expect((await c2.request({ method: 'GET', path: '/ok', query: [] })).status).toBe(200);
  });

  it('measures elapsedMs without the queue wait', async () => {
    const s = await server((_req, res) => {
      setTimeout(() => res.end('{}'), 150);
    });
    const c = client(district(s.origin, BEARER, { maxConcurrency: 1 }));
    const t0 = performance.now();
    const [a, b] = await Promise.all([1, 2].map(() => c.request({ method: 'GET', path: '/slow', query: [] })));
    const wall = performance.now() - t0;
    expect(wall).toBeGreaterThanOrEqual(290);
    for (const r of [a!, b!]) {
      expect(r.elapsedMs).toBeGreaterThanOrEqual(140);
      expect(r.elapsedMs).toBeLessThan(280);
    }
  });
});

describe('oauth1 on the wire', () => {
  it('signs what it sends, with a new nonce each call', async () => {
    const s = await server();
    const c = client(district(`${s.origin}/ims/oneroster`, { type: 'oauth1', consumerKey: 'ck', consumerSecret: 'cs!', signatureMethod: 'HMAC-SHA256' }));
    const query: Array<[string, string]> = [['filter', "givenName='Zoë' AND x>'1'"], ['fields', 'a,b']];
    await c.request({ method: 'GET', path: '/v1p1/users', query });
    await c.request({ method: 'GET', path: '/v1p1/users', query });
    const [h1, h2] = s.hits;
    for (const h of [h1!, h2!]) expect(verifyOAuth1('GET', s.origin + h.url, String(h.headers.authorization), 'cs!')).toBe(true);
    expect(parseAuthorization(String(h1!.headers.authorization)).oauth_nonce).not.toBe(parseAuthorization(String(h2!.headers.authorization)).oauth_nonce);
  });
});

describe('transport failures', () => {
  const noLeak = (err: unknown, port: number, ...secrets: string[]) => {
    const msg = String((err as Error).message);
    expect(msg).toContain('test-district');
    for (const s of ['127.0.0.1', String(port), 'http://', ...secrets]) expect(msg).not.toContain(s);
  };

  it('a closed port is UPSTREAM_UNREACHABLE, without host, port or secret in the message', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = client(district(`http://127.0.0.1:${port}/ims`, { type: 'bearer', token: 'very-secret-token' }));
    const err = await c.request({ method: 'GET', path: '/v1p1/users', query: [['filter', "x='y'"]] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_UNREACHABLE');
    noLeak(err, port, 'very-secret-token', 'filter');
  });

  it('a server that never answers is UPSTREAM_TIMEOUT after timeoutMs', async () => {
    const s = await server(() => {});
    const c = client(district(s.origin, BEARER, { timeoutMs: 200 }));
    const t0 = performance.now();
    const err = await c.request({ method: 'GET', path: '/hang', query: [] }).catch((e: unknown) => e);
    expect((err as UpstreamError).code).toBe('UPSTREAM_TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(800);
    noLeak(err, s.port);
  });

  it('the total timeout covers a body that trickles', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(t));
    });
    const c = client(district(s.origin, BEARER, { timeoutMs: 300 }));
    await expect(c.request({ method: 'GET', path: '/trickle', query: [] })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('a caller abort is UPSTREAM_ABORTED and frees the slot', async () => {
    const s = await server((req, res) => {
      if (req.url === '/hang') return;
      res.end('{}');
    });
    const c = client(district(s.origin, BEARER, { maxConcurrency: 1 }));
    const ac = new AbortController();
    const p = c.request({ method: 'GET', path: '/hang', query: [], signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'UPSTREAM_ABORTED' });
    expect((await c.request({ method: 'GET', path: '/ok', query: [] })).status).toBe(200);
  });

  it('after close() requests fail as UpstreamError', async () => {
    const s = await server();
    const c = createUpstreamClient(district(s.origin, BEARER));
    await c.close();
    await expect(c.request({ method: 'GET', path: '/x', query: [] })).rejects.toBeInstanceOf(UpstreamError);
  });
});

describe('construction', () => {
  it('validates baseUrl and auth, naming the field', () => {
    expect(() => createUpstreamClient(district('ftp://h/x', BEARER))).toThrow(/baseUrl/);
    expect(() => createUpstreamClient(district('not a url', BEARER))).toThrow(/baseUrl/);
    expect(() => createUpstreamClient(district('http://u:p@h/x', BEARER))).toThrow(/credentials/);
    expect(() => createUpstreamClient(district('http://h/x', { type: 'bearer', token: '' }))).toThrow(/token/);
    expect(() => createUpstreamClient(district('http://h/x', BEARER, { maxConcurrency: 0 }))).toThrow(/maxConcurrency/);
    expect(() => createUpstreamClient(district('http://h/x', { type: 'kerberos' } as never))).toThrow(/auth.type/);
  });
});
