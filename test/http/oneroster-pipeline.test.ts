// The inbound OneRoster pipeline (src/http/oneroster-pipeline.ts) through createApp's fetch, in
// memory: every request is admitted once (one bearer check, one routing) whether the synchronous
// fast path answers it or hono does, and each gets exactly one access line.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClientRegistry, type ClientDefinition } from '../../src/auth/clients.js';
import { createTokenService } from '../../src/auth/tokens.js';
import { createApp, type AppDeps } from '../../src/http/app.js';
import type { Logger } from '../../src/observability/logger.js';
import type { District, DistrictRegistry } from '../../src/districts/districts.js';
import type { CachedProxy, CachedProxyRequest, CachedProxyResponse } from '../../src/service/cached-proxy.js';
import type { CacheAdmin } from '../../src/service/cache-admin.js';

const URL_USERS = 'http://gw.test/ims/oneroster/v1p1/users?limit=2';

function answer(cache: CachedProxyResponse['cache']): CachedProxyResponse {
  const upstream = cache === 'HIT' ? 0 : 1;
  return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"users":[]}', upstreamRequests: upstream, upstreamMs: upstream * 2.5, cache };
}

function setup(options: { fresh?: boolean; ready?: boolean; client?: Partial<ClientDefinition>; clientLimits?: boolean } = {}) {
  const tokens = createTokenService({ secret: 'pipeline-test-secret-0123456789abcdef', ttlSeconds: 600 });
  const clients = createClientRegistry([{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['d1'], scopes: ['roster.readonly'], ...options.client }]);
  const district = { id: 'd1' } as District;
  const districts: DistrictRegistry = { get: (id) => (id === 'd1' ? district : undefined), list: () => [district], close: async () => {} };
  const asked: CachedProxyRequest[] = [];
  const proxy = {
    freshHit: vi.fn(() => (options.fresh ? answer('HIT') : undefined)),
    handle: vi.fn(async (req: CachedProxyRequest) => (asked.push(req), answer('MISS'))),
    stats: () => ({}),
  } as unknown as CachedProxy;
  const lines: Array<Record<string, unknown>> = [];
  const logger = { isLevelEnabled: () => true, info: (o: Record<string, unknown>) => lines.push(o), warn() {}, error() {} } as unknown as Logger;
  const metrics = { httpRequest: vi.fn(), rateLimited: vi.fn() };
  const http = createApp({
    tokens,
    clients,
    districts,
    proxy,
    logger,
    cacheAdmin: {} as CacheAdmin,
    isReady: () => options.ready ?? true,
    metrics: metrics as unknown as NonNullable<AppDeps['metrics']>,
    ...(options.clientLimits ? { clientLimits: true } : {}),
  });
  // One bearer check is one tokens.verify; one routing is one district lookup.
  const verify = vi.spyOn(tokens, 'verify');
  const route = vi.spyOn(districts, 'get');
  const token = tokens.issue('app', ['roster.readonly']).token;
  return { http, proxy, lines, metrics, verify, route, asked, auth: { authorization: `Bearer ${token}` } };
}

afterEach(() => vi.restoreAllMocks());

describe('the OneRoster pipeline', () => {
  it('checks the token and routes once for a request that is not a fresh hit, and writes one access line', async () => {
    const s = setup();
    const res = await s.http.fetch(new Request(URL_USERS, { headers: { ...s.auth, 'x-request-id': 'req-1' } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(res.headers.get('x-request-id')).toBe('req-1');
    expect(res.headers.get('server-timing')).toBe('upstream;dur=2.5;desc="1"');
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.route).toHaveBeenCalledTimes(1);
    expect(s.proxy.freshHit).toHaveBeenCalledTimes(1);
    expect(s.proxy.handle).toHaveBeenCalledTimes(1);
    expect(s.lines).toMatchObject([{ msg: 'request', requestId: 'req-1', method: 'GET', route: 'v1p1 GET /users', clientId: 'app', district: 'd1', status: 200, cache: 'MISS', upstreamMs: 2.5 }]);
    expect(s.metrics.httpRequest).toHaveBeenCalledTimes(1);
    expect(s.metrics.httpRequest.mock.calls[0]!.slice(0, 4)).toEqual(['d1', 'v1p1 GET /users', 200, 'MISS']);
  });

  it('keeps one request id from the fast path to the full path when the client sends none', async () => {
    const s = setup();
    const res = await s.http.fetch(new Request(URL_USERS, { headers: s.auth }));
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.asked[0]!.requestId).toBe(id);
    expect(s.lines[0]!.requestId).toBe(id);
  });

  it('answers a fresh hit synchronously, without the full path', () => {
    const s = setup({ fresh: true });
    const res = s.http.fetch(new Request(URL_USERS, { headers: s.auth }));
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).headers.get('x-cache')).toBe('HIT');
    expect((res as Response).headers.get('server-timing')).toBeNull();
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.route).toHaveBeenCalledTimes(1);
    expect(s.proxy.handle).not.toHaveBeenCalled();
    expect(s.lines).toMatchObject([{ method: 'GET', route: 'v1p1 GET /users', status: 200, cache: 'HIT', upstreamMs: 0 }]);
  });

  it('sends a client whose hits cost something the full way, still admitted once', async () => {
    const s = setup({ fresh: true, clientLimits: true, client: { rateLimit: { requestsPerSecond: 10, hitCost: 0.5 } } });
    const res = await s.http.fetch(new Request(URL_USERS, { headers: s.auth }));
    expect(res.status).toBe(200);
    expect(s.proxy.freshHit).not.toHaveBeenCalled();
    expect(s.proxy.handle).toHaveBeenCalledTimes(1);
    // Who asks, for the proxy's admission to charge (its hits cost something).
    expect(s.asked[0]!.caller).toEqual({ clientId: 'app', rateLimit: { requestsPerSecond: 10, hitCost: 0.5 } });
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.route).toHaveBeenCalledTimes(1);
  });

  it('admits a HEAD once and answers it without a body', async () => {
    const s = setup();
    const res = await s.http.fetch(new Request(URL_USERS, { method: 'HEAD', headers: s.auth }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.route).toHaveBeenCalledTimes(1);
    expect(s.proxy.freshHit).not.toHaveBeenCalled();
    expect(s.lines).toMatchObject([{ method: 'HEAD', status: 200, cache: 'MISS' }]);
  });

  it('refuses a bad token once, in the error envelope, with one access line', async () => {
    const s = setup();
    const res = await s.http.fetch(new Request(URL_USERS, { headers: { authorization: 'Bearer nope', 'x-request-id': 'req-2' } }));
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('req-2');
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    const body = (await res.json()) as { statusInfoSet: Array<{ imsx_codeMajor: string }> };
    expect(body.statusInfoSet[0]!.imsx_codeMajor).toBe('failure');
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.route).not.toHaveBeenCalled();
    expect(s.lines).toMatchObject([{ requestId: 'req-2', method: 'GET', route: 'GET /ims/oneroster/*', clientId: undefined, status: 401 }]);
  });

  it('refuses a method once (405 with Allow) and a path no endpoint answers (404, labelled unmatched)', async () => {
    const s = setup();
    const post = await s.http.fetch(new Request(URL_USERS, { method: 'POST', headers: s.auth, body: '{}' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const missing = await s.http.fetch(new Request('http://gw.test/districts/d1/ims/oneroster/v1p1/nothing', { headers: s.auth }));
    expect(missing.status).toBe(404);
    expect(s.verify).toHaveBeenCalledTimes(2);
    expect(s.route).toHaveBeenCalledTimes(2);
    expect(s.proxy.handle).not.toHaveBeenCalled();
    expect(s.lines).toMatchObject([
      { method: 'POST', route: 'POST /ims/oneroster/*', clientId: 'app', district: undefined, status: 405 },
      { method: 'GET', route: 'GET unmatched', clientId: 'app', status: 404 },
    ]);
  });

  it('admits on the full path a request the fast path never saw (a path that names OneRoster only once decoded)', async () => {
    const s = setup();
    const res = await s.http.fetch(new Request('http://gw.test/%69ms/oneroster/v1p1/users', { headers: { ...s.auth, 'x-request-id': 'req-3' } }));
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-3');
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.lines).toMatchObject([{ requestId: 'req-3', route: 'GET unmatched', clientId: 'app', status: 404 }]);
  });

  it.each(['/x/ims/oneroster/v1p1/users', '/districts/d1/x/ims/oneroster/v1p1/users', '/ims/onerostery/v1p1/users'])(
    'writes the one access line of a path that only looks like OneRoster (%s: 404)',
    async (path) => {
      const s = setup();
      const res = await s.http.fetch(new Request(`http://gw.test${path}`, { headers: { ...s.auth, 'x-request-id': 'req-4' } }));
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBe('req-4');
      expect(s.proxy.handle).not.toHaveBeenCalled();
      expect(s.lines).toMatchObject([{ requestId: 'req-4', route: 'GET unmatched', status: 404 }]);
      expect(s.lines).toHaveLength(1);
    },
  );

  it('writes one access line, not two, for the bare OneRoster roots', async () => {
    const s = setup();
    for (const path of ['/ims/oneroster', '/districts/d1/ims/oneroster']) await s.http.fetch(new Request(`http://gw.test${path}`, { headers: s.auth }));
    expect(s.lines).toHaveLength(2);
    expect(s.lines.map((l) => l.status)).toEqual([404, 404]);
  });

  it('closes the connection of every answer while draining, the fast path included', async () => {
    const hit = setup({ fresh: true, ready: false });
    expect((hit.http.fetch(new Request(URL_USERS, { headers: hit.auth })) as Response).headers.get('connection')).toBe('close');
    const miss = setup({ ready: false });
    expect((await miss.http.fetch(new Request(URL_USERS, { headers: miss.auth }))).headers.get('connection')).toBe('close');
  });
});
