import { afterEach, describe, expect, it } from 'vitest';
import type { RetryConfig } from '../../src/config/schema.js';
import { composeDistrictUpstream, createUpstreamClient, type DistrictChainOptions, type DistrictUpstreamClient } from '../../src/upstream/chain.js';
import { compose, type Interceptor } from '../../src/upstream/dispatch.js';
import type { SharedBudgets } from '../../src/upstream/shared-budget.js';
import type { UpstreamRequest, UpstreamResponse } from '../../src/upstream/types.js';
import { district } from './district.js';
import { startLocalServer, type LocalServer } from './local-server.js';

// The order of one district's chain (src/upstream/chain.ts), proved by what each step sees:
// version probe -> breaker -> health -> retry -> [rotation] -> metrics -> well-formed -> limiter
// -> shared budget -> wire -> auth -> transport.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const USERS: UpstreamRequest = { method: 'GET', path: '/v1p1/users', query: [] };
const RETRY: RetryConfig = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxTotalMs: 5_000 };
const logger = { info: () => undefined, warn: () => undefined };

function options(over: Partial<DistrictChainOptions> = {}): DistrictChainOptions {
  return { upstream: { retry: RETRY, breaker: { enabled: true, failureThreshold: 2, openSeconds: 30 } }, probeVersion: false, logger, ...over };
}

/** A client at the bottom of the chain that answers from a script and counts its lifecycle calls. */
function scripted(outcomes: Array<number | Error>) {
  const calls: UpstreamRequest[] = [];
  const life = { closed: 0, retired: 0 };
  const client: DistrictUpstreamClient = {
    districtId: 'd1',
    async request(req) {
      calls.push(req);
      const next = outcomes.shift() ?? 200;
      if (next instanceof Error) throw next;
      return { status: next, headers: {}, body: Buffer.from(next < 300 ? '{"orgs":[]}' : '{}'), elapsedMs: 1 } satisfies UpstreamResponse;
    },
    close: async () => void life.closed++,
    retire: async () => void life.retired++,
    credentials: () => ['runtime-token'],
  };
  return { client, calls, life };
}

/** An interceptor that writes its name on the way in. */
const recording =
  (name: string, seen: string[]): Interceptor =>
  (next) =>
  (req) => {
    seen.push(name);
    return next(req);
  };

describe('compose', () => {
  it('reads outside in: the first interceptor sees the request first and the answer last', async () => {
    const seen: string[] = [];
    const step =
      (name: string): Interceptor =>
      (next) =>
      async (req) => {
        seen.push(`${name}>`);
        const res = await next(req);
        seen.push(`<${name}`);
        return res;
      };
    const dispatch = compose([step('a'), undefined, step('b'), false, step('c')], async () => {
      seen.push('base');
      return { status: 200, headers: {}, body: Buffer.alloc(0), elapsedMs: 0 };
    });
    await dispatch(USERS);
    expect(seen).toEqual(['a>', 'b>', 'c>', 'base', '<c', '<b', '<a']);
  });
});

describe("the district's half: version probe -> breaker -> health -> retry -> rotation -> client", () => {
  it('runs the rotation step once per attempt, inside the retries', async () => {
    const { client, calls } = scripted([503, 502, 200]);
    const seen: string[] = [];
    const d = composeDistrictUpstream(client, options({ rotation: recording('rotation', seen) }));
    expect((await d.request(USERS)).status).toBe(200);
    expect(seen).toEqual(['rotation', 'rotation', 'rotation']);
    expect(calls).toHaveLength(3);
  });

  it('counts a retried request once in health and in the breaker', async () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    const { client, calls } = scripted([503, 503, 200]);
    const d = composeDistrictUpstream(client, options({ now: () => t }));
    expect((await d.request(USERS)).status).toBe(200);
    expect(calls).toHaveLength(3);
    // Health saw one answer, the last: two failed attempts left no failure behind.
    expect(d.health()).toEqual({ lastSuccessAt: '2026-01-01T00:00:00.000Z' });
    expect(d.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('opens after failureThreshold requests, not attempts; health keeps the failure that opened it', async () => {
    const { client, calls } = scripted([503, 503, 503, 503, 503, 503]);
    const d = composeDistrictUpstream(client, options());
    expect((await d.request(USERS)).status).toBe(503);
    expect(d.breaker()).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
    expect((await d.request(USERS)).status).toBe(503);
    expect(calls).toHaveLength(6);
    expect(d.breaker().state).toBe('open');
    // Refused by the breaker: nothing below it runs, and health does not record the refusal.
    await expect(d.request(USERS)).rejects.toMatchObject({ code: 'UPSTREAM_CIRCUIT_OPEN' });
    expect(calls).toHaveLength(6);
    expect(d.health().lastFailure).toBe('HTTP 503');
  });

  it('probes the version through the breaker, health and retries below it', async () => {
    const { client, calls } = scripted([503, 200]);
    const d = composeDistrictUpstream(client, options({ probeVersion: true }));
    expect(d.versionProbe!.current()).toBeUndefined();
    expect(await d.versionProbe!.settle()).toBe('v1p2');
    // The probe's 503 was retried below it, and health saw its answer.
    expect(calls.map((c) => c.path)).toEqual(['/rostering/v1p2/orgs', '/rostering/v1p2/orgs']);
    expect(d.health().lastSuccessAt).toBeDefined();
    expect(d.breaker().consecutiveFailures).toBe(0);
    expect(d.versionProbe!.state().state).toBe('probed');
  });

  it('refuses the probe too once the breaker is open', async () => {
    const { client } = scripted([503, 503, 503, 503, 503, 503]);
    const d = composeDistrictUpstream(client, options({ probeVersion: true }));
    await d.request(USERS);
    await d.request(USERS);
    await expect(d.versionProbe!.settle()).rejects.toMatchObject({ code: 'UPSTREAM_CIRCUIT_OPEN' });
    expect(d.versionProbe!.state()).toMatchObject({ state: 'failed', lastFailure: 'UPSTREAM_CIRCUIT_OPEN' });
  });

  it("hands out the client's own lifecycle and credentials; no step copies them", async () => {
    const { client, life } = scripted([]);
    const d = composeDistrictUpstream(client, options());
    await d.retire();
    await d.close();
    expect(life).toEqual({ closed: 1, retired: 1 });
    expect(d.credentials()).toEqual(['runtime-token']);
    expect(d.districtId).toBe('d1');
  });
});

describe("the client's half: metrics -> well-formed -> limiter -> shared budget -> wire -> auth -> transport", () => {
  async function server(handler?: Parameters<typeof startLocalServer>[0]): Promise<LocalServer> {
    const s = await startLocalServer(handler);
    cleanups.push(() => s.close());
    return s;
  }
  function chain(s: LocalServer, upstream: Parameters<typeof district>[2] = {}, shared?: SharedBudgets) {
    const metrics: Array<[string, number | string, number | undefined]> = [];
    const client = createUpstreamClient(district(s.origin, { type: 'bearer', token: 'tok' }, { retry: RETRY, ...upstream }), {
      metrics: (id, outcome, seconds) => void metrics.push([id, outcome, seconds]),
      ...(shared ? { shared } : {}),
    });
    cleanups.push(() => client.close());
    return { d: composeDistrictUpstream(client, options()), metrics };
  }

  it('measures each attempt inside the retries, with the answer the district gave it', async () => {
    let n = 0;
    const s = await server((_req, res) => {
      res.statusCode = ++n === 1 ? 503 : 200;
      res.end('{}');
    });
    const { d, metrics } = chain(s);
    expect((await d.request(USERS)).status).toBe(200);
    expect(metrics.map(([id, outcome]) => [id, outcome])).toEqual([
      ['test-district', 503],
      ['test-district', 200],
    ]);
    expect(s.hits).toHaveLength(2);
    expect(s.hits[0]!.headers.authorization).toBe('Bearer tok');
  });

  it('counts a request the limiter refuses, and a malformed one fails before it asks for a slot', async () => {
    let hold!: () => void;
    const s = await server((_req, res) => {
      hold = () => res.end('{}');
    });
    const { d, metrics } = chain(s, { maxConcurrency: 1, maxQueue: 0, queueTimeoutMs: 0 });
    const first = d.request(USERS);
    await until(() => s.hits.length === 1);
    await expect(d.request(USERS)).rejects.toMatchObject({ code: 'UPSTREAM_BUSY' });
    await expect(d.request({ ...USERS, path: '/v1p1/users?x=1' })).rejects.toBeInstanceOf(TypeError);
    hold();
    await first;
    expect(metrics.map(([, outcome]) => outcome)).toEqual(['UPSTREAM_BUSY', 'error', 200]);
    expect(s.hits).toHaveLength(1);
  });

  it('asks the shared budget inside the local slot, once per attempt, and times only the wire', async () => {
    const asked: string[] = [];
    const shared: SharedBudgets = {
      kind: 'redis',
      rate: { take: async () => (asked.push('rate'), { ok: true, retryAfterMs: 0 }) },
      semaphore: { acquire: async () => (asked.push('slot'), () => void asked.push('release')) },
    };
    const release: Array<() => void> = [];
    const s = await server((_req, res) => void release.push(() => res.end('{}')));
    const { d, metrics } = chain(s, { maxConcurrency: 1, rateLimit: { requestsPerSecond: 100 } }, shared);
    const first = d.request(USERS);
    const second = d.request(USERS);
    await until(() => s.hits.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    // The second waits in this replica's queue: it has asked for nothing shared yet.
    expect(asked).toEqual(['slot', 'rate']);
    release.shift()!();
    await first;
    await until(() => s.hits.length === 2);
    release.shift()!();
    await second;
    expect(asked).toEqual(['slot', 'rate', 'release', 'slot', 'rate', 'release']);
    // The second's 300 ms in the queue is not the district's time.
    expect(metrics[1]![2]!).toBeLessThan(0.25);
  });
});

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
