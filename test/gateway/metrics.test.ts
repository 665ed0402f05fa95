// GET /metrics: Prometheus text an operator can follow a request into, from the access line.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/raw-http.js';
import { ALL_SCOPES, UPSTREAM_SECRETS, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;
let token: string;
let clock = Date.now();

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox(), extra: { upstream: { retry: { maxAttempts: 1 } } } }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    cache: { ttlSeconds: 60, staleSeconds: 3600, deltaSync: { enabled: true, intervalSeconds: 3600 } },
    admin: { token: ADMIN },
    now: () => clock,
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const get = (path: string) => stack.http.get(`/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${token}`);

/** The value of one series, by exact label set (order-free), from Prometheus text. */
async function series(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await stack.http.get('/metrics')).text;
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      total += Number(m[3]);
      found = true;
    }
  }
  return found ? total : NaN;
}

describe('/metrics', () => {
  it('serves Prometheus text without a token (metrics.auth: none), and is not in the access log', async () => {
    const res = await stack.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE oneroster_gateway_http_request_duration_seconds histogram');
    expect(res.text).toContain('oneroster_gateway_process_resident_memory_bytes');
    expect(stack.logs.some((l) => l.includes('"route":"GET /metrics"'))).toBe(false);
  });

  it('counts requests by district and status class, and times them by route template and cache status', async () => {
    const route = 'v1p1 GET /courses';
    const perDistrict = { district: 'springfield', status_class: '2xx' };
    const okBefore = (await series('oneroster_gateway_http_requests_total', perDistrict)) || 0;
    const missBefore = (await series('oneroster_gateway_http_request_duration_seconds_count', { route, cache: 'MISS' })) || 0;
    const hitBefore = (await series('oneroster_gateway_http_request_duration_seconds_count', { route, cache: 'HIT' })) || 0;
    expect((await get('/courses?limit=2')).headers['x-cache']).toBe('MISS');
    for (let i = 0; i < 3; i++) expect((await get('/courses?limit=2')).headers['x-cache']).toBe('HIT');
    expect(await series('oneroster_gateway_http_request_duration_seconds_count', { route, cache: 'MISS' })).toBe(missBefore + 1);
    expect(await series('oneroster_gateway_http_request_duration_seconds_count', { route, cache: 'HIT' })).toBe(hitBefore + 3);
    expect(await series('oneroster_gateway_http_request_duration_seconds_bucket', { route, cache: 'HIT', le: '+Inf' })).toBe(hitBefore + 3);
    expect(await series('oneroster_gateway_http_requests_total', perDistrict)).toBe(okBefore + 4);
    // Bounded by default: no district (nor status) on the latency histogram.
    const text = (await stack.http.get('/metrics')).text;
    expect(text).not.toMatch(/http_request_duration_seconds_bucket\{[^}]*district=/);
    expect(text).not.toMatch(/upstream_request_duration_seconds_bucket\{[^}]*district=/);
    // The access line of the same request carries the same route and cache status.
    expect(stack.logs.some((l) => l.includes(`"route":"${route}"`) && l.includes('"cache":"HIT"'))).toBe(true);
    // Cache lookups by tier: the hits came from this process (l1), the miss from nowhere.
    expect(await series('oneroster_gateway_cache_lookups_total', { tier: 'l1', result: 'hit' })).toBeGreaterThanOrEqual(3);
    expect(await series('oneroster_gateway_cache_lookups_total', { tier: 'none', result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(await series('oneroster_gateway_cache_bytes', { tier: 'l1' })).toBeGreaterThan(0);
  });

  it('counts requests per configured client', async () => {
    const before = (await series('oneroster_gateway_client_requests_total', { client: 'app' })) || 0;
    await get('/orgs?limit=1');
    await get('/orgs?limit=1');
    expect(await series('oneroster_gateway_client_requests_total', { client: 'app' })).toBe(before + 2);
  });

  it('counts upstream requests, errors and 429s by district', async () => {
    const sandbox = stack.sandboxes.springfield!;
    const okBefore = (await series('oneroster_gateway_upstream_requests_total', { district: 'springfield', outcome: '200' })) || 0;
    await get('/schools?limit=1');
    expect(await series('oneroster_gateway_upstream_requests_total', { district: 'springfield', outcome: '200' })).toBe(okBefore + 1);
    expect(await series('oneroster_gateway_upstream_request_duration_seconds_count')).toBeGreaterThanOrEqual(okBefore + 1);

    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '7' } }, { match: '/terms' });
    expect((await get('/terms?limit=1')).status).toBe(429);
    expect(await series('oneroster_gateway_upstream_throttled_total', { district: 'springfield' })).toBe(1);
    sandbox.injectFault({ kind: 'status', status: 500 }, { match: '/gradingPeriods' });
    expect((await get('/gradingPeriods?limit=1')).status).toBe(502);
    expect(await series('oneroster_gateway_upstream_errors_total', { district: 'springfield', reason: '500' })).toBe(1);
    sandbox.injectFault({ kind: 'reset' }, { match: '/demographics' });
    expect((await get('/demographics?limit=1')).status).toBe(502);
    expect(await series('oneroster_gateway_upstream_errors_total', { district: 'springfield', reason: 'UPSTREAM_UNREACHABLE' })).toBe(1);
  });

  it('makes stale answers visible: stale_served by district and reason', async () => {
    expect((await get('/classes?limit=2')).status).toBe(200);
    clock += 120_000; // past the 60 s TTL, inside the stale window
    stack.sandboxes.springfield!.injectFault({ kind: 'status', status: 503 }, { match: '/classes' });
    const stale = await get('/classes?limit=2');
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(await series('oneroster_gateway_stale_served_total', { district: 'springfield', reason: 'refreshing' })).toBe(1);
    expect(await series('oneroster_gateway_cache_lookups_total', { result: 'stale' })).toBeGreaterThanOrEqual(1);
  });

  it('counts tokens issued by client, and shows the time since the last successful delta sync per district', async () => {
    const before = (await series('oneroster_gateway_tokens_issued_total', { client: 'app' })) || 0;
    await stack.token('app', 'app-secret-value');
    expect(await series('oneroster_gateway_tokens_issued_total', { client: 'app' })).toBe(before + 1);
    const sync = await stack.http.post('/admin/districts/springfield/sync').set('authorization', `Bearer ${ADMIN}`);
    expect(sync.status).toBe(200);
    const syncedAt = clock;
    expect(await series('oneroster_gateway_delta_sync_last_success_timestamp_seconds', { district: 'springfield' })).toBeCloseTo(syncedAt / 1000, 0);
    expect(await series('oneroster_gateway_delta_sync_interval_seconds')).toBe(3600);
    clock += 30_000;
    expect(await series('oneroster_gateway_delta_sync_last_run_seconds', { district: 'springfield' })).toBeCloseTo(30, 0);
    expect(await series('oneroster_gateway_delta_sync_lag_seconds', { district: 'springfield' })).toBeCloseTo(30, 0);
    // Nothing changed at the district, and the next sync succeeds: the lag starts again from 0
    // (it used to be the watermark's age, which only grows on a quiet district).
    expect((await stack.http.post('/admin/districts/springfield/sync').set('authorization', `Bearer ${ADMIN}`)).status).toBe(200);
    expect(await series('oneroster_gateway_delta_sync_lag_seconds', { district: 'springfield' })).toBe(0);
    // A failing sync leaves the last success where it was, and the lag grows from it.
    stack.sandboxes.springfield!.injectFault({ kind: 'status', status: 503 }, { match: '/orgs', times: 1 });
    const failedAt = clock;
    clock += 10_000;
    expect((await stack.http.post('/admin/districts/springfield/sync').set('authorization', `Bearer ${ADMIN}`)).status).toBe(200);
    expect(await series('oneroster_gateway_delta_sync_last_success_timestamp_seconds', { district: 'springfield' })).toBeCloseTo(failedAt / 1000, 0);
    expect(await series('oneroster_gateway_delta_sync_lag_seconds', { district: 'springfield' })).toBeCloseTo(10, 0);
    expect(await series('oneroster_gateway_delta_sync_last_run_seconds', { district: 'springfield' })).toBe(0);
  });

  it('never exposes a secret, an upstream URL or a request path with ids', async () => {
    const text = (await stack.http.get('/metrics')).text;
    for (const s of [...UPSTREAM_SECRETS, 'app-secret-value', ADMIN]) expect(text).not.toContain(s);
    expect(text).not.toContain(new URL(stack.sandboxes.springfield!.url).host);
    expect(text).not.toMatch(/limit=/);
  });
});

describe('a scrape of the running gateway, as Prometheus makes it', () => {
  it('is gzip when asked, with build_info, and the client counter of a request just made', async () => {
    const before = (await series('oneroster_gateway_client_requests_total', { client: 'app' })) || 0;
    expect((await get('/academicSessions?limit=1')).status).toBe(200);
    // Prometheus's own Accept-Encoding.
    const res = await rawRequest(`${stack.gateway.url}/metrics`, { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(res.headers['content-length'])).toBe(res.bytes.byteLength);
    const text = gunzipSync(res.bytes).toString('utf8');
    expect(res.bytes.byteLength).toBeLessThan(text.length / 4);
    const version = (JSON.parse((await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(text).toContain(`oneroster_gateway_build_info{version="${version}",node_version="${process.version}"} 1`);
    expect(text).toContain(`oneroster_gateway_client_requests_total{client="app"} ${before + 1}`);
    // Without Accept-Encoding: identity.
    const plain = await rawRequest(`${stack.gateway.url}/metrics`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.bytes.toString('utf8')).toContain('# TYPE oneroster_gateway_build_info gauge');
  });

  it('shows each district the limiter has had waiting, and no Redis or PostgreSQL gauge with memory stores', async () => {
    const text = (await stack.http.get('/metrics')).text;
    expect(text).toContain('# TYPE oneroster_gateway_upstream_queue_depth gauge');
    expect(text).not.toMatch(/^oneroster_gateway_redis_up /m);
    expect(text).not.toMatch(/^oneroster_gateway_postgres_up /m);
  });

  it('counts config reloads by outcome, with the time of the last good one', async () => {
    const ok = (await series('oneroster_gateway_config_reloads_total', { outcome: 'success' })) || 0;
    clock += 5_000;
    await stack.gateway.reload(stack.config);
    expect(await series('oneroster_gateway_config_reloads_total', { outcome: 'success' })).toBe(ok + 1);
    expect(await series('oneroster_gateway_config_last_reload_success_timestamp_seconds')).toBeCloseTo(clock / 1000, 0);
    expect(await series('oneroster_gateway_config_last_reload_successful')).toBe(1);
    // A district on a sandbox nobody resolved (serve.ts resolves them) cannot be built: refused.
    const broken = JSON.parse(JSON.stringify(stack.config)) as typeof stack.config;
    broken.districts[0]!.baseUrl = 'sandbox://nobody/ims/oneroster';
    broken.districts[0]!.name = 'changed, so it is built again';
    await expect(stack.gateway.reload(broken)).rejects.toThrow(/baseUrl/);
    expect(await series('oneroster_gateway_config_reloads_total', { outcome: 'failure' })).toBe(1);
    expect(await series('oneroster_gateway_config_last_reload_successful')).toBe(0);
    expect(await series('oneroster_gateway_config_last_reload_success_timestamp_seconds')).toBeCloseTo(clock / 1000, 0);
    // A file that did not parse (serve.ts) never reaches reload(): counted all the same.
    stack.gateway.reloadRefused();
    expect(await series('oneroster_gateway_config_reloads_total', { outcome: 'failure' })).toBe(2);
  });
});

describe('/metrics behind the admin token', () => {
  it('answers 401 without it and 200 with it', async () => {
    const guarded = await startStack({
      districts: [],
      clients: [],
      admin: { token: ADMIN },
      extra: { metrics: { auth: 'admin' } },
    });
    try {
      const refused = await guarded.http.get('/metrics');
      expect(refused.status).toBe(401);
      expect(refused.body.imsx_codeMajor).toBe('failure');
      expect((await guarded.http.get('/metrics').set('authorization', `Bearer ${ADMIN}`)).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('is off with metrics.enabled: false', async () => {
    const off = await startStack({ districts: [], clients: [], extra: { metrics: { enabled: false } } });
    try {
      expect((await off.http.get('/metrics')).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
