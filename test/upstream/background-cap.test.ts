// The replica's cap on background requests, counted where it matters: at the origin. However many
// districts start background work at once, at most `max` of their requests are in flight; a
// client request never waits behind them.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackgroundCap } from '../../src/upstream/background-cap.js';
import { createUpstreamClient, type DistrictUpstreamClient } from '../../src/upstream/chain.js';
import { UpstreamError, type UpstreamRequest } from '../../src/upstream/types.js';
import { district } from './district.js';
import { startLocalServer, type LocalServer } from './local-server.js';

const AUTH = { type: 'bearer', token: 'background-cap-token' } as const;
let origin: LocalServer;
// Background requests are held open until the test lets them go; client ones answer at once.
const held: ServerResponse[] = [];
let inFlight = 0;
let maxInFlight = 0;
const arrivals: string[] = [];

beforeAll(async () => {
  origin = await startLocalServer((req, res) => {
    const kind = new URL(req.url ?? '/', 'http://x').searchParams.get('kind') ?? 'none';
    arrivals.push(kind);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('finish', () => inFlight--);
    res.setHeader('content-type', 'application/json');
    if (kind === 'background') held.push(res);
    else res.end('{"users":[]}');
  });
});
afterAll(async () => {
  for (const res of held.splice(0)) res.end('{}');
  await origin.close();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const request = (kind: 'background' | 'client'): UpstreamRequest => ({
  method: 'GET',
  path: '/v1p1/users',
  query: [['kind', kind]],
  ...(kind === 'background' ? { priority: 'background' as const } : {}),
});

describe('background cap', () => {
  it('keeps 10 districts’ 40 background requests to 3 in flight, and lets a client request through at once', async () => {
    const cap = createBackgroundCap({ max: 3 });
    const clients: DistrictUpstreamClient[] = Array.from({ length: 10 }, (_, i) =>
      // Each district's own limiter is wide: only the replica's cap can hold them back.
      createUpstreamClient(district(origin.origin, AUTH, { maxConcurrency: 20, timeoutMs: 20_000 }, `d${i}`), { background: cap }),
    );
    try {
      const background = clients.flatMap((c) => Array.from({ length: 4 }, () => c.request(request('background'))));
      await until(() => held.length === 3, 'three background requests at the origin');
      expect(cap).toMatchObject({ active: 3, waiting: 37 });
      // The cap is full and 37 wait: a client request of any district still reaches the origin
      // next, and its answer comes back while every background request is still held.
      const answer = await clients[7]!.request(request('client'));
      expect(answer.status).toBe(200);
      expect(arrivals).toEqual(['background', 'background', 'background', 'client']);
      expect(held.length).toBe(3);
      // Let the background go, one answer at a time: each frees one slot for one waiter.
      while (arrivals.filter((k) => k === 'background').length < 40 || held.length > 0) {
        await until(() => held.length > 0, 'a held background request');
        held.shift()!.end('{"users":[]}');
        await new Promise((r) => setTimeout(r, 1));
      }
      const results = await Promise.all(background);
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(maxInFlight).toBeLessThanOrEqual(4);
      expect(arrivals.filter((k) => k === 'background')).toHaveLength(40);
      expect(cap).toMatchObject({ active: 0, waiting: 0 });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('counts background requests only: the origin never sees more than max of them at once', async () => {
    maxInFlight = 0;
    arrivals.length = 0;
    const cap = createBackgroundCap({ max: 2 });
    const clients = Array.from({ length: 5 }, (_, i) => createUpstreamClient(district(origin.origin, AUTH, { maxConcurrency: 20, timeoutMs: 20_000 }, `e${i}`), { background: cap }));
    try {
      const background = clients.flatMap((c) => Array.from({ length: 3 }, () => c.request(request('background'))));
      let answered = 0;
      while (answered < 15) {
        await until(() => held.length > 0, 'a held background request');
        // Never more than two held at the origin, however long the test waits.
        await new Promise((r) => setTimeout(r, 5));
        expect(held.length).toBeLessThanOrEqual(2);
        held.shift()!.end('{"users":[]}');
        answered++;
      }
      await Promise.all(background);
      expect(maxInFlight).toBe(2);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('gives up on a waiter that is aborted or waits past maxWaitMs, and validates its options', async () => {
    const cap = createBackgroundCap({ max: 1, maxWaitMs: 50 });
    const client = createUpstreamClient(district(origin.origin, AUTH, { timeoutMs: 20_000 }, 'f1'), { background: cap });
    try {
      const first = client.request(request('background'));
      await until(() => held.length === 1, 'the first background request');
      const timedOut = await client.request(request('background')).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(UpstreamError);
      expect((timedOut as UpstreamError).code).toBe('UPSTREAM_BUSY');
      const controller = new AbortController();
      const aborted = client.request({ ...request('background'), signal: controller.signal }).catch((e: unknown) => e);
      controller.abort();
      expect(((await aborted) as UpstreamError).code).toBe('UPSTREAM_ABORTED');
      expect(cap.waiting).toBe(0);
      held.shift()!.end('{"users":[]}');
      expect((await first).status).toBe(200);
      expect(cap.active).toBe(0);
    } finally {
      await client.close();
    }
    expect(() => createBackgroundCap({ max: 0 })).toThrow(/max must be an integer >= 1/);
    expect(() => createBackgroundCap({ max: 1.5 })).toThrow(/max/);
    expect(() => createBackgroundCap({ max: 2, maxWaitMs: -1 })).toThrow(/maxWaitMs/);
  });
});
