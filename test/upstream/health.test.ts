import { describe, expect, it } from 'vitest';
import { withHealth } from '../../src/upstream/health.js';
import type { UpstreamClient, UpstreamResponse } from '../../src/upstream/types.js';

function fakeClient(outcomes: Array<number | Error>): UpstreamClient {
  return {
    districtId: 'd',
    async request() {
      const next = outcomes.shift()!;
      if (next instanceof Error) throw next;
      return { status: next, headers: {}, body: Buffer.alloc(0), elapsedMs: 1 } as UpstreamResponse;
    },
    close: async () => undefined,
  };
}

describe('district health', () => {
  it('records the last answer and the last failure, by status or error code only', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const reset = Object.assign(new Error('connect ECONNRESET https://secret.example/ims'), { code: 'UPSTREAM_UNREACHABLE' });
    const { client, health } = withHealth(fakeClient([200, 404, 503, reset, 401]), () => t);
    expect(health()).toEqual({});
    await client.request({ method: 'GET', path: '/x', query: [], headers: {} });
    t += 1000;
    await client.request({ method: 'GET', path: '/x', query: [], headers: {} }); // 404 is an answer
    expect(health()).toEqual({ lastSuccessAt: '2026-01-01T00:00:01.000Z' });
    t += 1000;
    await client.request({ method: 'GET', path: '/x', query: [], headers: {} });
    expect(health()).toMatchObject({ lastFailureAt: '2026-01-01T00:00:02.000Z', lastFailure: 'HTTP 503' });
    t += 1000;
    await expect(client.request({ method: 'GET', path: '/x', query: [], headers: {} })).rejects.toBe(reset);
    expect(health()).toMatchObject({ lastFailure: 'UPSTREAM_UNREACHABLE' });
    await client.request({ method: 'GET', path: '/x', query: [], headers: {} });
    expect(health().lastFailure).toBe('HTTP 401'); // our credentials refused
    expect(JSON.stringify(health())).not.toContain('secret.example');
  });
});
