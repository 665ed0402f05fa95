import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/testing.js';
import { createUpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamRequest } from '../../src/upstream/types.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';

type TestSandbox = Awaited<ReturnType<typeof startSandbox>>;
const TOKEN = 'limiter-token';
const LATENCY = 120;
let sandbox: TestSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: TOKEN }, port: 0, users: 50, latencyMs: LATENCY });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.resetHits());

const USERS: UpstreamRequest = { method: 'GET', path: '/v1p1/users', query: [['limit', '1']] };
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof UpstreamError ? e.code : String(e)));

/** Samples, at the server, how many requests are open (status 0 = still pending). */
function watchPending() {
  let peak = 0;
  const t = setInterval(() => {
    peak = Math.max(peak, sandbox.hits.filter((h) => h.status === 0).length);
  }, 5);
  return () => {
    clearInterval(t);
    return peak;
  };
}

describe('limiter against a slow sandbox', () => {
  it('never has more than maxConcurrency requests open at the server', async () => {
    const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: TOKEN }, { maxConcurrency: 2 }));
    const stop = watchPending();
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 6 }, () => c.request(USERS)));
    const wall = performance.now() - t0;
    const peak = stop();
    await c.close();
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(sandbox.hitCount()).toBe(6);
    expect(peak).toBe(2);
    // Three waves of LATENCY each.
    expect(wall).toBeGreaterThanOrEqual(3 * LATENCY - 10);
  });

  it('queue full -> UPSTREAM_BUSY at once, and busy requests never reach the server', async () => {
    const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: TOKEN }, { maxConcurrency: 2, maxQueue: 1 }));
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => code(c.request(USERS))));
    await c.close();
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'UPSTREAM_BUSY', 'UPSTREAM_BUSY']);
    expect(sandbox.hitCount()).toBe(3);
  });

  it('queue timeout -> UPSTREAM_BUSY; elapsedMs of the served ones excludes queueing', async () => {
    const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: TOKEN }, { maxConcurrency: 1, queueTimeoutMs: 50 }));
    const first = c.request(USERS);
    const second = code(c.request(USERS));
    expect(await second).toBe('UPSTREAM_BUSY');
    const res = await first;
    expect(res.status).toBe(200);
    expect(sandbox.hitCount()).toBe(1);
    // Once the slot is free again, requests go through.
    expect((await c.request(USERS)).status).toBe(200);
    await c.close();
  });
});

describe('the queue depth the metrics read', () => {
  it('is the number of requests waiting for a slot, 0 again once they ran', async () => {
    const c = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: TOKEN }, { maxConcurrency: 1 }));
    try {
      expect(c.queued!()).toBe(0);
      const all = Promise.all([1, 2, 3].map(() => c.request(USERS)));
      await new Promise((r) => setTimeout(r, LATENCY / 3));
      expect(c.queued!()).toBe(2);
      await all;
      expect(c.queued!()).toBe(0);
    } finally {
      await c.close();
    }
  });
});
