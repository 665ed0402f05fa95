import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerConfig } from '../../src/config/schema.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { withBreaker } from '../../src/upstream/breaker.js';
import { createUpstreamClient, type DistrictUpstreamClient } from '../../src/upstream/client.js';
import { UpstreamError, type UpstreamClient, type UpstreamRequest } from '../../src/upstream/types.js';
import { district } from './district.js';

const TOKEN = 'breaker-test-secret-token';
const AUTH = { type: 'bearer', token: TOKEN } as const;
const CONFIG: BreakerConfig = { enabled: true, failureThreshold: 3, openSeconds: 30 };
const USERS: UpstreamRequest = { method: 'GET', path: '/v1p1/users', query: [['limit', '1']] };
const START = Date.parse('2025-03-01T12:00:00Z');

let sandbox: TestSandbox;
let base: DistrictUpstreamClient;
let clock: number;
let logs: Array<{ level: 'info' | 'warn'; entry: Record<string, unknown> }>;

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
  clock = START;
  logs = [];
});
afterEach(() => {
  // Nothing the breaker logs may say where the district lives or how it is reached.
  const text = JSON.stringify(logs);
  for (const leak of [sandbox.url, new URL(sandbox.url).host, TOKEN, '/v1p1']) expect(text).not.toContain(leak);
});

function breaker(config: Partial<BreakerConfig> = {}, client: UpstreamClient = base) {
  return withBreaker(client, { ...CONFIG, ...config }, {
    now: () => clock,
    logger: {
      info: (entry) => logs.push({ level: 'info', entry: entry as Record<string, unknown> }),
      warn: (entry) => logs.push({ level: 'warn', entry: entry as Record<string, unknown> }),
    },
  });
}

async function outcome(p: Promise<{ status: number }>): Promise<number | string> {
  return p.then(
    (res) => res.status,
    (err: unknown) => (err instanceof UpstreamError ? err.code : 'other'),
  );
}

async function rejection(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

/** Opens the breaker with `threshold` injected 503s. */
async function openIt(b: ReturnType<typeof breaker>, threshold = CONFIG.failureThreshold) {
  sandbox.injectFault({ kind: 'status', status: 503 }, { times: threshold });
  for (let i = 0; i < threshold; i++) expect((await b.client.request(USERS)).status).toBe(503);
  expect(b.state().state).toBe('open');
  sandbox.resetHits();
}

const messages = () => logs.map((l) => `${l.level}:${String(l.entry.msg)}`);

describe('withBreaker: a background probe', () => {
  it('goes at client priority, so a saturated background cap cannot hold clients refused behind it', async () => {
    const priorities: Array<string | undefined> = [];
    const recording: UpstreamClient = { districtId: base.districtId, request: (req) => (priorities.push(req.priority), base.request(req)), close: async () => undefined };
    const b = breaker({}, recording);
    await openIt(b);
    clock += CONFIG.openSeconds * 1000;
    priorities.length = 0;
    const poll: UpstreamRequest = { ...USERS, priority: 'background' };
    expect((await b.client.request(poll)).status).toBe(200);
    expect(priorities).toEqual([undefined]);
    expect(b.state().state).toBe('closed');
    // Closed, background requests keep their priority.
    expect((await b.client.request(poll)).status).toBe(200);
    expect(priorities).toEqual([undefined, 'background']);
  });
});

describe('withBreaker: opening', () => {
  it('opens after failureThreshold consecutive failures; then nothing reaches the upstream', async () => {
    const b = breaker();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    await b.client.request(USERS);
    await b.client.request(USERS);
    expect(b.state()).toEqual({ state: 'closed', consecutiveFailures: 2, opens: 0 });
    sandbox.injectFault({ kind: 'status', status: 503 });
    expect((await b.client.request(USERS)).status).toBe(503);
    expect(sandbox.hitCount()).toBe(3);
    expect(b.state()).toEqual({
      state: 'open',
      consecutiveFailures: 3,
      opens: 1,
      openedAt: '2025-03-01T12:00:00.000Z',
      retryAt: '2025-03-01T12:00:30.000Z',
    });

    sandbox.resetHits();
    const err = await rejection(b.client.request(USERS));
    expect(err.code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect(err.districtId).toBe('test-district');
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.message).toContain('test-district');
    for (const leak of [sandbox.url, new URL(sandbox.url).host, '/v1p1']) expect(err.message).not.toContain(leak);
    clock += 10_000;
    expect((await rejection(b.client.request(USERS))).retryAfterMs).toBe(20_000);
    expect(sandbox.hitCount()).toBe(0);

    expect(logs).toEqual([{ level: 'warn', entry: expect.objectContaining({ msg: 'circuit opened', district: 'test-district', failures: 3 }) }]);
  });

  it('a success in between resets the count', async () => {
    const b = breaker();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    await b.client.request(USERS);
    await b.client.request(USERS);
    expect((await b.client.request(USERS)).status).toBe(200);
    expect(b.state().consecutiveFailures).toBe(0);
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    await b.client.request(USERS);
    await b.client.request(USERS);
    expect(b.state()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
  });

  it('resets, timeouts, 500 and 429 are failures', async () => {
    const b = breaker({ failureThreshold: 4 });
    sandbox.injectFault({ kind: 'reset' });
    sandbox.injectFault({ kind: 'hang' });
    sandbox.injectFault({ kind: 'status', status: 500 });
    sandbox.injectFault({ kind: 'status', status: 429 });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await outcome(b.client.request(USERS)));
    expect(seen).toEqual(['UPSTREAM_UNREACHABLE', 'UPSTREAM_TIMEOUT', 500, 429]);
    expect(b.state().state).toBe('open');
  });

  it('a 404 is an answer: it resets the count', async () => {
    const b = breaker();
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    await b.client.request(USERS);
    await b.client.request(USERS);
    expect((await b.client.request({ method: 'GET', path: '/v1p1/users/no-such-user', query: [] })).status).toBe(404);
    expect(b.state()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it.each([401, 403])('%i neither opens it nor resets the count', async (status) => {
    const b = breaker();
    sandbox.injectFault({ kind: 'status', status }, { times: 10 });
    for (let i = 0; i < 10; i++) expect((await b.client.request(USERS)).status).toBe(status);
    expect(b.state()).toEqual({ state: 'closed', consecutiveFailures: 0, opens: 0 });
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    sandbox.injectFault({ kind: 'status', status });
    sandbox.injectFault({ kind: 'status', status: 503 });
    for (let i = 0; i < 4; i++) await b.client.request(USERS);
    expect(b.state().state).toBe('open');
  });

  it('a real 401 (wrong credentials) does not open it', async () => {
    const wrong = createUpstreamClient(district(sandbox.baseUrl, { type: 'bearer', token: 'not-the-token' }));
    try {
      const b = breaker({ failureThreshold: 1 }, wrong);
      for (let i = 0; i < 3; i++) expect((await b.client.request(USERS)).status).toBe(401);
      expect(b.state().state).toBe('closed');
      expect(sandbox.hitCount()).toBe(3);
    } finally {
      await wrong.close();
    }
  });

  it('an answer to a request sent before the circuit opened does not close it', async () => {
    const b = breaker();
    sandbox.injectFault({ kind: 'delay', ms: 200 });
    const slow = b.client.request(USERS);
    await until(() => sandbox.hitCount() === 1);
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 3 });
    for (let i = 0; i < 3; i++) await b.client.request(USERS);
    expect(b.state().state).toBe('open');
    expect((await slow).status).toBe(200);
    expect(b.state()).toMatchObject({ state: 'open', consecutiveFailures: 3 });
  });
});

describe('withBreaker: half-open', () => {
  it('lets exactly one probe through while concurrent requests fail fast; its success closes it', async () => {
    const b = breaker();
    await openIt(b);
    clock += 30_000;
    expect(b.state().state).toBe('half-open');
    // The probe is slow, so the others arrive while it is out.
    sandbox.injectFault({ kind: 'delay', ms: 150 });
    const all = await Promise.all(Array.from({ length: 6 }, () => outcome(b.client.request(USERS))));
    expect(all.filter((o) => o === 200)).toHaveLength(1);
    expect(all.filter((o) => o === 'UPSTREAM_CIRCUIT_OPEN')).toHaveLength(5);
    expect(sandbox.hitCount()).toBe(1);
    expect(b.state()).toEqual({ state: 'closed', consecutiveFailures: 0, opens: 1, openedAt: '2025-03-01T12:00:00.000Z' });

    const again = await Promise.all(Array.from({ length: 4 }, () => outcome(b.client.request(USERS))));
    expect(again).toEqual([200, 200, 200, 200]);
    expect(sandbox.hitCount()).toBe(5);
    expect(messages()).toEqual(['warn:circuit opened', 'info:circuit closed']);
  });

  it('requests refused during the probe are told to come back soon', async () => {
    const b = breaker();
    await openIt(b);
    clock += 31_000;
    sandbox.injectFault({ kind: 'delay', ms: 100 });
    const probe = b.client.request(USERS);
    const err = await rejection(b.client.request(USERS));
    expect(err.code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.retryAfterMs).toBeLessThanOrEqual(1000);
    expect((await probe).status).toBe(200);
  });

  it('a failed probe re-opens it for openSeconds again', async () => {
    const b = breaker();
    await openIt(b);
    clock += 30_000;
    sandbox.injectFault({ kind: 'reset' });
    expect(await outcome(b.client.request(USERS))).toBe('UPSTREAM_UNREACHABLE');
    expect(b.state()).toMatchObject({ state: 'open', opens: 2, openedAt: '2025-03-01T12:00:30.000Z', retryAt: '2025-03-01T12:01:00.000Z' });
    expect(sandbox.hitCount()).toBe(1);

    clock += 29_000;
    expect((await rejection(b.client.request(USERS))).retryAfterMs).toBe(1_000);
    expect(sandbox.hitCount()).toBe(1);
    clock += 1_000;
    expect((await b.client.request(USERS)).status).toBe(200);
    expect(b.state().state).toBe('closed');
    // One outage: the failed probe re-opened it without a warning of its own.
    expect(messages()).toEqual(['warn:circuit opened', 'info:circuit closed']);
  });

  it('an outage of two hours, a failed probe every 30 s: one warning, a reminder every 15 minutes, one line when it closes', async () => {
    const b = breaker();
    await openIt(b);
    // 240 probes, each refused (503) and re-opening the circuit for openSeconds.
    for (let i = 0; i < 240; i++) {
      clock += 30_000;
      sandbox.injectFault({ kind: 'status', status: 503 }, { times: 1 });
      expect((await b.client.request(USERS)).status).toBe(503);
    }
    expect(b.state()).toMatchObject({ state: 'open', opens: 241 });
    clock += 30_000;
    expect((await b.client.request(USERS)).status).toBe(200);
    const warnings = logs.filter((l) => l.level === 'warn').map((l) => l.entry);
    expect(warnings[0]).toMatchObject({ msg: 'circuit opened', district: 'test-district', failures: 3, cause: 'HTTP 503' });
    // 2 hours of failed probes: a reminder each 15 minutes (at 15, 30, ... 120).
    expect(warnings.slice(1)).toHaveLength(8);
    expect(warnings[1]).toMatchObject({ msg: 'circuit still open', district: 'test-district', cause: 'HTTP 503', since: '2025-03-01T12:00:00.000Z', attempts: 31 });
    expect(logs.at(-1)).toEqual({ level: 'info', entry: expect.objectContaining({ msg: 'circuit closed', district: 'test-district', since: '2025-03-01T12:00:00.000Z', attempts: 241 }) });
    expect(logs).toHaveLength(10);
  });

  it('a probe that proves nothing (aborted) leaves it half-open for the next request', async () => {
    const b = breaker();
    await openIt(b);
    clock += 30_000;
    const controller = new AbortController();
    sandbox.injectFault({ kind: 'delay', ms: 500 });
    const aborted = b.client.request({ ...USERS, signal: controller.signal });
    await until(() => sandbox.hitCount() === 1);
    controller.abort();
    expect(await outcome(aborted)).toBe('UPSTREAM_ABORTED');
    expect(b.state().state).toBe('half-open');
    expect((await b.client.request(USERS)).status).toBe(200);
    expect(b.state().state).toBe('closed');
  });
});

describe('withBreaker: writes and options', () => {
  it('refuses writes while open, and a write failure counts like any other', async () => {
    const b = breaker();
    const put: UpstreamRequest = { method: 'PUT', path: '/v1p1/results/r-1', query: [], body: '{"result":{}}' };
    sandbox.injectFault({ kind: 'status', status: 502 }, { times: 3 });
    for (let i = 0; i < 3; i++) expect((await b.client.request(put)).status).toBe(502);
    expect(b.state().state).toBe('open');
    sandbox.resetHits();
    expect((await rejection(b.client.request(put))).code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect((await rejection(b.client.request({ method: 'DELETE', path: '/v1p1/results/r-1', query: [] }))).code).toBe('UPSTREAM_CIRCUIT_OPEN');
    expect(sandbox.hitCount()).toBe(0);
  });

  it('enabled: false passes everything through and stays closed', async () => {
    const b = breaker({ enabled: false, failureThreshold: 1 });
    expect(b.client).toBe(base);
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 5 });
    for (let i = 0; i < 5; i++) expect((await b.client.request(USERS)).status).toBe(503);
    expect(sandbox.hitCount()).toBe(5);
    expect(b.state()).toEqual({ state: 'closed', consecutiveFailures: 0, opens: 0 });
    expect(logs).toEqual([]);
  });

  it.each([[{ failureThreshold: 0 }], [{ failureThreshold: 2.5 }], [{ openSeconds: 0 }], [{ openSeconds: Number.NaN }]])('rejects %j at construction', (bad) => {
    expect(() => breaker(bad)).toThrow(/breaker: /);
  });
});

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
