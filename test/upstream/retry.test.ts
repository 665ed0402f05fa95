import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RetryConfig } from '../../src/config/schema.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { createUpstreamClient, type DistrictUpstreamClient } from '../../src/upstream/client.js';
import { retryAfterMs, withRetry, type RetryDeps } from '../../src/upstream/retry.js';
import { UpstreamError, type UpstreamRequest } from '../../src/upstream/types.js';
import { district } from './district.js';

const TOKEN = 'retry-test-secret-token';
const AUTH = { type: 'bearer', token: TOKEN } as const;
const CONFIG: RetryConfig = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200, maxTotalMs: 15_000 };
const USERS: UpstreamRequest = { method: 'GET', path: '/v1p1/users', query: [['limit', '1']] };

let sandbox: TestSandbox;
let base: DistrictUpstreamClient;
const extraClients: DistrictUpstreamClient[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ version: 'v1p1', auth: AUTH, users: 20 });
  base = createUpstreamClient(district(sandbox.baseUrl, AUTH, { timeoutMs: 300 }));
});
afterAll(async () => {
  await base.close();
  await sandbox.close();
});
beforeEach(() => {
  sandbox.clearFaults();
  sandbox.resetHits();
});
afterEach(async () => {
  await Promise.all(extraClients.splice(0).map((c) => c.close()));
});

/** A fake clock that only moves when the retry "sleeps": no real waiting, exact delays. */
function fakeTime(start = Date.parse('2025-03-01T12:00:00Z')) {
  const t = { now: start, slept: [] as number[] };
  const deps: Required<RetryDeps> = {
    now: () => t.now,
    random: () => 0.5,
    sleep: async (ms) => {
      t.slept.push(ms);
      t.now += ms;
    },
  };
  return { t, deps };
}

async function rejection(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('withRetry: what is retried', () => {
  it('503 twice then 200: three upstream hits, the 200 is returned, backoff doubles with jitter', async () => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    const res = await withRetry(base, CONFIG, deps).request(USERS);
    expect(res.status).toBe(200);
    expect(sandbox.hitCount()).toBe(3);
    // random() = 0.5 of base * 2^(attempt-1): 0.5 * 20, 0.5 * 40
    expect(t.slept).toEqual([10, 20]);
  });

  it.each([502, 504])('%i then 200: retried', async (status) => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status });
    expect((await withRetry(base, CONFIG, deps).request(USERS)).status).toBe(200);
    expect(sandbox.hitCount()).toBe(2);
  });

  it('a connection reset then 200: retried', async () => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'reset' });
    expect((await withRetry(base, CONFIG, deps).request(USERS)).status).toBe(200);
    expect(sandbox.hitCount()).toBe(2);
  });

  it('caps each delay at maxDelayMs', async () => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 4 });
    const res = await withRetry(base, { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 250, maxTotalMs: 15_000 }, { ...deps, random: () => 1 }).request(USERS);
    expect(res.status).toBe(200);
    expect(t.slept).toEqual([100, 200, 250, 250]);
  });

  it.each([
    ['PUT', { method: 'PUT', path: '/v1p1/results/r-1', query: [], body: '{"result":{}}' }],
    ['DELETE', { method: 'DELETE', path: '/v1p1/results/r-1', query: [] }],
  ] as const)('a %s is never retried', async (_name, req) => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 3 });
    expect((await withRetry(base, CONFIG, deps).request(req)).status).toBe(503);
    expect(sandbox.hitCount()).toBe(1);
    expect(t.slept).toEqual([]);
  });

  it.each([500, 404, 400])('an HTTP %i is an answer: not retried', async (status) => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status }, { times: 3 });
    expect((await withRetry(base, CONFIG, deps).request(USERS)).status).toBe(status);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('a real 404 (unknown record) is not retried', async () => {
    const { deps } = fakeTime();
    const res = await withRetry(base, CONFIG, deps).request({ method: 'GET', path: '/v1p1/users/no-such-user', query: [] });
    expect(res.status).toBe(404);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('a timeout is not retried: a slow server must not get double load', async () => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'hang' }, { times: 3 });
    expect((await rejection(withRetry(base, CONFIG, deps).request(USERS))).code).toBe('UPSTREAM_TIMEOUT');
    expect(sandbox.hitCount()).toBe(1);
  });

  it('UPSTREAM_BUSY (our own queue) is not retried', async () => {
    const { t, deps } = fakeTime();
    const single = createUpstreamClient(district(sandbox.baseUrl, AUTH, { maxConcurrency: 1, maxQueue: 0, queueTimeoutMs: 0 }));
    extraClients.push(single);
    sandbox.injectFault({ kind: 'delay', ms: 100 });
    const slow = single.request(USERS);
    expect((await rejection(withRetry(single, CONFIG, deps).request(USERS))).code).toBe('UPSTREAM_BUSY');
    expect((await slow).status).toBe(200);
    expect(sandbox.hitCount()).toBe(1);
    expect(t.slept).toEqual([]);
  });
});

describe('withRetry: bounds', () => {
  it('maxAttempts is the total number of attempts', async () => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 10 });
    expect((await withRetry(base, CONFIG, deps).request(USERS)).status).toBe(503);
    expect(sandbox.hitCount()).toBe(3);
  });

  it('maxAttempts 1 means no retry; the last error is thrown as is', async () => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'reset' }, { times: 3 });
    expect((await rejection(withRetry(base, { ...CONFIG, maxAttempts: 1 }, deps).request(USERS))).code).toBe('UPSTREAM_UNREACHABLE');
    expect(sandbox.hitCount()).toBe(1);
  });

  it('after the last attempt, the last error is thrown', async () => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'reset' }, { times: 3 });
    const err = await rejection(withRetry(base, CONFIG, deps).request(USERS));
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.message).not.toContain('127.0.0.1');
    expect(sandbox.hitCount()).toBe(3);
  });

  it('stops early when the next delay would pass maxTotalMs, returning the last response', async () => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 10 });
    // random() = 1: delays 20, 40, 80...; after 20 ms slept, 20 + 40 > 50 stops it.
    const res = await withRetry(base, { maxAttempts: 10, baseDelayMs: 20, maxDelayMs: 1000, maxTotalMs: 50 }, { ...deps, random: () => 1 }).request(USERS);
    expect(res.status).toBe(503);
    expect(t.slept).toEqual([20]);
    expect(sandbox.hitCount()).toBe(2);
  });

  it('counts time spent in attempts against maxTotalMs', async () => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 10 });
    // Each attempt "takes" 1 s on the fake clock: after the first, a 20 ms delay already passes 1000 ms.
    const slowClient = { ...base, request: async (r: UpstreamRequest) => ((t.now += 1000), base.request(r)) };
    const res = await withRetry(slowClient, { maxAttempts: 10, baseDelayMs: 20, maxDelayMs: 1000, maxTotalMs: 1000 }, { ...deps, random: () => 1 }).request(USERS);
    expect(res.status).toBe(503);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('maxTotalMs 0: never retried', async () => {
    const { deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 3 });
    expect((await withRetry(base, { ...CONFIG, maxTotalMs: 0 }, deps).request(USERS)).status).toBe(503);
    expect(sandbox.hitCount()).toBe(1);
  });
});

describe('withRetry: Retry-After', () => {
  it('429 with Retry-After: 1 waits at least the header', async () => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    expect((await withRetry(base, CONFIG, deps).request(USERS)).status).toBe(200);
    expect(sandbox.hitCount()).toBe(2);
    expect(t.slept).toHaveLength(1);
    expect(t.slept[0]).toBeGreaterThanOrEqual(1000);
  });

  it('503 with an HTTP-date Retry-After waits until that date', async () => {
    const { t, deps } = fakeTime();
    const at = new Date(t.now + 3000).toUTCString();
    sandbox.injectFault({ kind: 'status', status: 503, headers: { 'Retry-After': at } });
    expect((await withRetry(base, CONFIG, deps).request(USERS)).status).toBe(200);
    expect(t.slept).toEqual([3000]);
  });

  it('a Retry-After beyond maxTotalMs returns the answer at once (the client sees the header)', async () => {
    const { t, deps } = fakeTime();
    sandbox.injectFault({ kind: 'status', status: 503, headers: { 'Retry-After': '30' } });
    const res = await withRetry(base, CONFIG, deps).request(USERS);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(t.slept).toEqual([]);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('really waits with the default sleep', async () => {
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    const started = performance.now();
    expect((await withRetry(base, CONFIG).request(USERS)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(sandbox.hitCount()).toBe(2);
  });

  it('parses delta-seconds and HTTP-dates, ignores nonsense', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    expect(retryAfterMs('5', now)).toBe(5000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Sat, 01 Mar 2025 12:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-3', now)).toBeUndefined();
    expect(retryAfterMs('Saturday, 01-Mar-25 12:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Sat Mar  1 12:00:07 2025', now)).toBe(7000);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('withRetry: the caller and the limiter', () => {
  it('an abort during the backoff throws UPSTREAM_ABORTED at once', async () => {
    sandbox.injectFault({ kind: 'status', status: 503, headers: { 'Retry-After': '5' } });
    const controller = new AbortController();
    const started = performance.now();
    const pending = withRetry(base, CONFIG).request({ ...USERS, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(pending)).code).toBe('UPSTREAM_ABORTED');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sandbox.hitCount()).toBe(1);
  });

  it('an abort is honoured even when an injected sleep ignores the signal', async () => {
    sandbox.injectFault({ kind: 'status', status: 503 });
    const controller = new AbortController();
    const never = () => new Promise<void>(() => undefined);
    const pending = withRetry(base, CONFIG, { sleep: never }).request({ ...USERS, signal: controller.signal });
    await until(() => sandbox.hits.some((h) => h.status === 503));
    controller.abort();
    expect((await rejection(pending)).code).toBe('UPSTREAM_ABORTED');
    expect(sandbox.hitCount()).toBe(1);
  });

  it('waiting out a backoff holds no limiter slot', async () => {
    const single = createUpstreamClient(district(sandbox.baseUrl, AUTH, { maxConcurrency: 1, maxQueue: 0, queueTimeoutMs: 0 }));
    extraClients.push(single);
    let wake!: () => void;
    const sleeping = new Promise<void>((r) => (wake = r));
    let asleep = false;
    const retried = withRetry(single, CONFIG, { sleep: () => ((asleep = true), sleeping) });
    sandbox.injectFault({ kind: 'status', status: 503 });
    const first = retried.request(USERS);
    await until(() => asleep);
    // With no queue, this would fail UPSTREAM_BUSY if the sleeping request held the slot.
    expect((await single.request(USERS)).status).toBe(200);
    wake();
    expect((await first).status).toBe(200);
    expect(sandbox.hitCount()).toBe(3);
  });
});

describe('withRetry: options', () => {
  it.each([
    [{ maxAttempts: 0 }],
    [{ maxAttempts: 1.5 }],
    [{ baseDelayMs: 0 }],
    [{ maxDelayMs: -1 }],
    [{ maxTotalMs: -1 }],
    [{ maxTotalMs: Number.NaN }],
  ])('rejects %j at construction', (bad) => {
    expect(() => withRetry(base, { ...CONFIG, ...bad })).toThrow(/retry: /);
  });
});

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
