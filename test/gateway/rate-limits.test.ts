// Rate limits: per client (429 + Retry-After, server_busy; hits free or cheaper) and per
// district (request budget, replica-wide concurrency), shared by replicas through Redis.
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { redisUrl, uniquePrefix } from '../cache/redis-env.js';
import { ALL_SCOPES, TOKEN_SECRET, bearerSandbox, startStack, tokenAt, type Stack } from '../helpers/stack.js';

const BEARER = { type: 'bearer', token: 'classlink-bearer-token-xyz' };

describe('client rate limits (one process)', () => {
  let stack: Stack;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'springfield', sandbox: bearerSandbox() }],
      clients: [
        // Slow refill: the test's requests all fall inside one burst window.
        { clientId: 'free-hits', clientSecret: 'free-hits-secret', districts: ['*'], scopes: ALL_SCOPES, rateLimit: { requestsPerSecond: 0.01, burst: 3 } },
        { clientId: 'cheap-hits', clientSecret: 'cheap-hits-secret', districts: ['*'], scopes: ALL_SCOPES, rateLimit: { requestsPerSecond: 0.01, burst: 2, hitCost: 0.5 } },
        { clientId: 'unlimited', clientSecret: 'unlimited-secret', districts: ['*'], scopes: ALL_SCOPES },
      ],
    });
    for (const id of ['free-hits', 'cheap-hits', 'unlimited']) tokens[id] = await stack.token(id, `${id}-secret`);
  });
  afterAll(() => stack?.close());

  const get = (client: string, path: string) => stack.http.get(`/districts/springfield/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${tokens[client]}`);

  it('lets a client make its burst of district requests, then answers 429 with Retry-After and server_busy', async () => {
    for (let i = 1; i <= 3; i++) expect((await get('free-hits', `/users?limit=${i}`)).status).toBe(200);
    const hits = stack.sandboxes.springfield!.hitCount();
    const refused = await get('free-hits', '/users?limit=4');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
    expect(refused.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('server_busy');
    expect(refused.body.statusInfoSet[0].imsx_description).toContain('rate limit');
    // Refused before the district: no upstream request.
    expect(stack.sandboxes.springfield!.hitCount()).toBe(hits);
    expect((await stack.http.get('/metrics')).text).toContain('oneroster_gateway_rate_limited_total{client="free-hits"} 1');
  });

  it('keeps answering cache hits for free (hitCost 0), even with the bucket empty', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await get('free-hits', '/users?limit=2');
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('HIT');
    }
    expect((await get('free-hits', '/classes?limit=2')).status).toBe(429);
  });

  it('charges hits hitCost of a request when configured', async () => {
    expect((await get('unlimited', '/courses?limit=2')).headers['x-cache']).toBe('MISS');
    // burst 2, hits cost 0.5: four hits, then refused.
    for (let i = 0; i < 4; i++) expect((await get('cheap-hits', '/courses?limit=2')).headers['x-cache']).toBe('HIT');
    const refused = await get('cheap-hits', '/courses?limit=2');
    expect(refused.status).toBe(429);
    // Another client's budget is its own.
    expect((await get('unlimited', '/courses?limit=2')).status).toBe(200);
  });
});

describe('district budgets (one process)', () => {
  let stack: Stack;
  let token: string;
  beforeAll(async () => {
    stack = await startStack({
      districts: [
        {
          id: 'fragile',
          sandbox: bearerSandbox(),
          extra: { upstream: { rateLimit: { requestsPerSecond: 0.5, burst: 2 }, queueTimeoutMs: 300, retry: { maxAttempts: 1 } } },
        },
      ],
      clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    });
    token = await stack.token('app', 'app-secret-value');
  });
  afterAll(() => stack?.close());

  it('spends the district request budget, then answers 503 busy without sending more', async () => {
    const statuses = await Promise.all(
      ['users', 'classes', 'courses', 'orgs'].map(async (c) => (await stack.http.get(`/districts/fragile/ims/oneroster/v1p1/${c}?limit=1`).set('authorization', `Bearer ${token}`)).status),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    expect(stack.sandboxes.fragile!.hitCount()).toBe(2);
  });
});

const url = redisUrl();

describe.runIf(url)('budgets shared by two replicas through Redis', () => {
  let sandbox: TestSandbox;
  const replicas: RunningGateway[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox(bearerSandbox({ latencyMs: 200 }));
    const keyPrefix = uniquePrefix('rate');
    for (let i = 0; i < 2; i++) {
      const config = parseConfig(
        JSON.stringify({
          server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 1000 },
          auth: {
            tokenSecret: TOKEN_SECRET,
            clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES, rateLimit: { requestsPerSecond: 0.01, burst: 6 } }],
          },
          cache: { store: url, keyPrefix, ttlSeconds: 600, deltaSync: { enabled: false } },
          districts: [{ id: 'd1', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: BEARER, upstream: { maxConcurrency: 1, retry: { maxAttempts: 1 } } }],
        }),
        {},
        'replica',
      );
      replicas.push(await startGateway(config, { logger: createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) }) }));
    }
    for (const r of replicas) tokens.push(await tokenAt(r.url));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await sandbox?.close();
  });

  const get = (i: number, path: string) => request(replicas[i]!.url).get(`/districts/d1/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${tokens[i]}`);

  it('counts maxConcurrency across replicas: cold pages on both replicas reach the district one at a time', async () => {
    const started = performance.now();
    const statuses = await Promise.all(['users', 'classes', 'courses', 'orgs'].map((c, i) => get(i % 2, `/${c}?limit=1`).then((r) => r.status)));
    const wall = performance.now() - started;
    expect(statuses).toEqual([200, 200, 200, 200]);
    // 4 requests x 200 ms, one at a time across both replicas; per-replica slots would take ~400 ms.
    expect(wall).toBeGreaterThanOrEqual(780);
  });

  it("shares a client's rate limit: its burst is spent across both replicas together", async () => {
    // The burst is 6 and four district requests were made above; two more pass, on either replica.
    expect((await get(0, '/schools?limit=1')).status).toBe(200);
    expect((await get(1, '/terms?limit=1')).status).toBe(200);
    expect((await get(0, '/academicSessions?limit=1')).status).toBe(429);
    expect((await get(1, '/academicSessions?limit=1')).status).toBe(429);
  });
});
