import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCacheBackend, type ProcessCacheBackend } from '../../src/cache/index.js';
import { GatewayError } from '../../src/core/errors.js';
import { matchEndpoint, type Method } from '../../src/core/oneroster/endpoints.js';
import { readPageQuery } from '../../src/core/oneroster/query.js';
import { createCachePolicy } from '../../src/service/cache-policy.js';
import type { Admission } from '../../src/service/client-admission.js';
import { createCachedProxy, ROOT_HEADER, type CachedProxyRequest } from '../../src/service/cached-proxy.js';
import type { ProxyRequest, ProxyResponse } from '../../src/service/proxy-service.js';
import type { StoredForms } from '../../src/service/oneroster-cache-policy.js';
import { createBodyCoder } from '../../src/compression/body-coder.js';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';

// The OneRoster policy on top of the read-through, below the HTTP layer: a fake district
// (a ProxyService that counts its calls) and the real memory backend.

const ORIGIN = 'https://gw.example';
const HREF_BASE = `${ORIGIN}/districts/d1/ims/oneroster`;

let t: number;
let backend: ProcessCacheBackend;
let calls: ProxyRequest[];
let answer: (req: ProxyRequest) => Promise<ProxyResponse>;
let logLines: Array<Record<string, unknown>>;

beforeEach(async () => {
  t = 1_000_000;
  backend = await createCacheBackend({ store: 'memory', maxMemoryBytes: 1 << 20, now: () => t });
  calls = [];
  logLines = [];
  answer = async (req) => ok(`{"users":[{"href":"${req.hrefBase}/users/u1"}]}`);
});
afterEach(() => backend.close());

function ok(body: string, headers: Record<string, string> = {}): ProxyResponse {
  return { status: 200, headers: { 'content-type': 'application/json', 'x-secret': 'not kept', ...headers }, body, upstreamRequests: 2, upstreamMs: 7 };
}

function cachedProxy(collections: Record<string, { ttlSeconds?: number; staleSeconds?: number }> = {}, admission?: Admission, forms?: StoredForms) {
  return createCachedProxy({
    ...(admission ? { admission } : {}),
    ...(forms ? { forms } : {}),
    proxy: {
      handle: (req) => {
        calls.push(req);
        return answer(req);
      },
    },
    backend,
    policy: createCachePolicy({ defaults: { ttlSeconds: 60, staleSeconds: 300 }, collections, districts: new Map(), negativeTtlSeconds: 30 }),
    logger: { info: (o: object) => void logLines.push({ level: 'info', ...o }), warn: (o: object) => void logLines.push({ level: 'warn', ...o }) },
    coalesceWaitMs: 100,
    now: () => t,
  });
}

type District = CachedProxyRequest['district'];
const district = (extra: Partial<District> = {}) => ({ id: 'd1', version: 'v1p2', upstreamBase: 'https://sis.example/ims/oneroster', ...extra }) as District;

function request(method: Method, path: string, extra: Partial<CachedProxyRequest> = {}): CachedProxyRequest {
  const segments = path.split('/').filter(Boolean);
  const match = matchEndpoint('v1p2', undefined, method, segments);
  if (!match.ok) throw new Error(`no endpoint for ${method} ${path}`);
  const { endpoint, params } = match;
  return {
    district: district(),
    version: 'v1p2',
    service: endpoint.service,
    endpoint,
    segments,
    query: readPageQuery(endpoint.kind, []),
    requestId: 'r1',
    linkBase: `${HREF_BASE}/${endpoint.service}/v1p2/${path}`,
    hrefBase: HREF_BASE,
    clientRoot: HREF_BASE,
    resource: `/${endpoint.service}/v1p2/${segments.join('/')}`,
    params,
    noCache: false,
    ...extra,
  };
}

const text = (body: ProxyResponse['body']) => (body === null ? '' : body.toString());

describe('cached proxy (OneRoster policy over the read-through)', () => {
  it('caches a 200 with only the headers the answer needs, then answers HIT (fast path too) without the district', async () => {
    const proxy = cachedProxy();
    const miss = await proxy.handle(request('GET', 'users'));
    expect(miss).toMatchObject({ status: 200, cache: 'MISS', upstreamRequests: 2, upstreamMs: 7 });
    expect(miss.headers).toEqual({ 'content-type': 'application/json', [ROOT_HEADER]: HREF_BASE });
    t += 5_000;
    const hit = await proxy.handle(request('GET', 'users'));
    expect(hit).toMatchObject({ cache: 'HIT', ageSeconds: 5, upstreamRequests: 0 });
    expect(proxy.freshHit(request('GET', 'users'))?.cache).toBe('HIT');
    expect(calls).toHaveLength(1);
    expect(proxy.stats('d1')).toMatchObject({ HIT: 2, MISS: 1, hitRatio: 0.667, entries: 1 });
  });

  it('a district whose background refreshes keep failing warns once, not once per stale hit, and says when one succeeds', async () => {
    const proxy = cachedProxy();
    await proxy.handle(request('GET', 'users'));
    t += 61_000;
    answer = async () => {
      throw new GatewayError('upstream_unreachable', 'down');
    };
    const settle = () => new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 20; i++) {
      expect((await proxy.handle(request('GET', 'users'))).cache).toBe('STALE');
      await settle();
    }
    expect(calls).toHaveLength(21);
    expect(logLines).toEqual([{ level: 'warn', msg: 'background refresh failed', district: 'd1', cause: 'upstream_unreachable' }]);
    answer = async (req) => ok(`{"users":[{"href":"${req.hrefBase}/users/u2"}]}`);
    await proxy.handle(request('GET', 'users'));
    await settle();
    expect(logLines.at(-1)).toMatchObject({ level: 'info', msg: 'background refresh recovered', district: 'd1', cause: 'upstream_unreachable', attempts: 20 });
    expect(logLines).toHaveLength(2);
  });

  it('does not store an answer other than 200', async () => {
    answer = async () => ({ ...ok('{}'), status: 203 });
    const proxy = cachedProxy();
    await proxy.handle(request('GET', 'users'));
    expect((await proxy.handle(request('GET', 'users'))).cache).toBe('MISS');
    expect(calls).toHaveLength(2);
  });

  it('remembers a single object 404 for negativeTtl, never as stale; a list 404 is not remembered', async () => {
    answer = async () => {
      throw new GatewayError('upstream_status', 'gone', { status: 404 });
    };
    const proxy = cachedProxy();
    const first = await proxy.handle(request('GET', 'users/u9'));
    expect(first).toMatchObject({ status: 404, cache: 'MISS', upstreamRequests: 1 });
    expect(text(first.body)).toContain('failure');
    expect((await proxy.handle(request('GET', 'users/u9'))).cache).toBe('HIT');
    expect(calls).toHaveLength(1);
    t += 30_000;
    answer = async () => {
      throw new GatewayError('upstream_timeout', 'down');
    };
    await expect(proxy.handle(request('GET', 'users/u9'))).rejects.toMatchObject({ code: 'upstream_timeout' });
    answer = async () => {
      throw new GatewayError('upstream_status', 'gone', { status: 404 });
    };
    await expect(proxy.handle(request('GET', 'users'))).rejects.toMatchObject({ status: 404 });
  });

  it('serves STALE on an outage after a change at the district, but not for an error that is the district\'s answer', async () => {
    const proxy = cachedProxy();
    await proxy.handle(request('GET', 'users'));
    await backend.cache.bump('d1', ['list:users']); // delta sync saw a change: soft
    answer = async () => {
      throw new GatewayError('upstream_unreachable', 'down');
    };
    expect((await proxy.handle(request('GET', 'users'))).cache).toBe('STALE');
    answer = async () => {
      throw new GatewayError('upstream_status', 'bad', { status: 400 });
    };
    await expect(proxy.handle(request('GET', 'users'))).rejects.toMatchObject({ status: 400 });
  });

  it('a write bumps its tags hard, even when it fails: what was cached is never served again, not even stale', async () => {
    const proxy = cachedProxy();
    await proxy.handle(request('GET', 'lineItems'));
    await backend.cache.bump('d1', ['list:lineItems']);
    const down = async (): Promise<ProxyResponse> => {
      throw new GatewayError('upstream_timeout', 'down');
    };
    answer = down;
    expect((await proxy.handle(request('GET', 'lineItems'))).cache).toBe('STALE');
    await expect(proxy.handle(request('PUT', 'lineItems/li1', { body: '{}', parsedBody: { lineItem: {} } }))).rejects.toMatchObject({ code: 'upstream_timeout' });
    await expect(proxy.handle(request('GET', 'lineItems'))).rejects.toMatchObject({ code: 'upstream_timeout' });
  });

  it('answers a write as BYPASS, its links in the client\'s form', async () => {
    answer = async (req) => ({ ...ok('{}', { link: `<${req.hrefBase}/x>` }), status: 201 });
    const proxy = cachedProxy();
    const res = await proxy.handle(request('PUT', 'lineItems/li1', { body: '{}', parsedBody: { lineItem: {} }, clientRoot: `${ORIGIN}/ims/oneroster` }));
    expect(res).toMatchObject({ status: 201, cache: 'BYPASS' });
    expect(res.headers.link).toBe(`<${ORIGIN}/ims/oneroster/x>`);
  });

  it('re-points an answer cached for one origin and path form at the asking one', async () => {
    answer = async (req) => ok(`{"users":[{"href":"${req.hrefBase}/users/u1"}]}`, { link: `<${req.hrefBase}/rostering/v1p2/users?offset=1>; rel="next"` });
    const proxy = cachedProxy();
    await proxy.handle(request('GET', 'users'));
    const other = 'https://other.example/districts/d1/ims/oneroster';
    const res = await proxy.handle(request('GET', 'users', { hrefBase: other, clientRoot: 'https://other.example/ims/oneroster' }));
    expect(res.cache).toBe('HIT');
    expect(text(res.body)).toBe(`{"users":[{"href":"${other}/users/u1"}]}`);
    expect(res.headers.link).toBe('<https://other.example/ims/oneroster/rostering/v1p2/users?offset=1>; rel="next"');
    expect(calls).toHaveLength(1);
  });

  it('admits what never comes from the cache as a miss before asking, a cached answer as a hit', async () => {
    const kinds: string[] = [];
    let refuse = false;
    // The admission is the proxy's, built once; a request carries only who asks.
    const proxy = cachedProxy({ enrollments: { ttlSeconds: 0, staleSeconds: 0 } }, async (c, kind) => {
      if (refuse) throw new GatewayError('rate_limited', 'slow down');
      kinds.push(`${c.clientId}:${kind}`);
    });
    const caller = { clientId: 'app', rateLimit: { requestsPerSecond: 1, hitCost: 0.5 } };
    expect((await proxy.handle(request('GET', 'enrollments', { caller }))).cache).toBe('BYPASS');
    await proxy.handle(request('GET', 'users', { caller }));
    await proxy.handle(request('GET', 'users', { caller }));
    expect((await proxy.handle(request('GET', 'users', { caller, noCache: true }))).cache).toBe('BYPASS');
    // A request with no rate-limited caller is not asked about.
    await proxy.handle(request('GET', 'users'));
    expect(kinds).toEqual(['app:miss', 'app:miss', 'app:hit', 'app:miss']);
    refuse = true;
    await expect(proxy.handle(request('GET', 'users', { caller }))).rejects.toMatchObject({ code: 'rate_limited' });
    expect(calls).toHaveLength(3);
  });

  it('settles an unprobed version first, and has no fast path until then', async () => {
    let version: 'v1p2' | undefined;
    const probe = { current: () => version, settle: async () => void (version = 'v1p2') };
    const proxy = cachedProxy();
    await proxy.handle(request('GET', 'users'));
    const unprobed = request('GET', 'users', { district: district({ versionProbe: probe } as unknown as Partial<District>) });
    expect(proxy.freshHit(unprobed)).toBeUndefined();
    expect((await proxy.handle(unprobed)).cache).toBe('HIT');
    expect(version).toBe('v1p2');
  });
});

describe('the forms a stored page carries (digest, content codings)', () => {
  it('are made once when the page is stored (in the codings clients ask for), and every hit answers with those very bytes', async () => {
    const coder = createBodyCoder();
    coder.demand('gzip');
    coder.demand('br');
    let made = 0;
    const forms: StoredForms = {
      digest: (b) => coder.digest(b),
      encodeAll: (b, type) => {
        made++;
        return coder.encodeAll(b, type);
      },
    };
    const big = `{"users":[${Array.from({ length: 50 }, (_, i) => `{"sourcedId":"u${i}","givenName":"Ada"}`).join(',')}]}`;
    answer = async () => ok(big);
    const proxy = cachedProxy({}, undefined, forms);
    const miss = await proxy.handle(request('GET', 'users'));
    expect(miss.cache).toBe('MISS');
    expect(made).toBe(1);
    expect(gunzipSync(miss.encoded!.gzip!).toString()).toBe(big);
    expect(brotliDecompressSync(miss.encoded!.br!).toString()).toBe(big);
    expect(miss.digest).toBe(coder.digest(Buffer.from(big)));
    const hits = [proxy.freshHit(request('GET', 'users'))!, await proxy.handle(request('GET', 'users'))];
    for (const hit of hits) {
      expect(hit.cache).toBe('HIT');
      expect(hit.encoded!.gzip).toBe(miss.encoded!.gzip);
      expect(hit.digest).toBe(miss.digest);
    }
    expect(made).toBe(1);
    expect(calls).toHaveLength(1);
  });

  it('are dropped when the answer is re-pointed at another origin (another body: another digest)', async () => {
    const big = (base: string) => `{"users":[${Array.from({ length: 50 }, (_, i) => `{"href":"${base}/users/u${i}"}`).join(',')}]}`;
    answer = async (req) => ok(big(req.hrefBase));
    const proxy = cachedProxy({}, undefined, createBodyCoder());
    await proxy.handle(request('GET', 'users'));
    const other = 'https://other.example/districts/d1/ims/oneroster';
    const res = await proxy.handle(request('GET', 'users', { hrefBase: other, clientRoot: other }));
    expect(text(res.body)).toBe(big(other));
    expect(res.digest).toBeUndefined();
    expect(res.encoded).toBeUndefined();
  });
});
