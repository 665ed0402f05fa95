import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { routeTemplate } from '../../src/core/oneroster/route-template.js';
import { withRetry } from '../../src/upstream/retry.js';
import type { UpstreamRequest } from '../../src/upstream/types.js';
import { district } from './district.js';
import { upstreamHarness } from './harness.js';

// LOG_LEVEL=debug: one line per attempt, each retry too, saying what happened and why the
// gateway asked again, and nothing of the request that could carry a secret or a record id.
const h = upstreamHarness();
const TOKEN = 'attempt-log-secret-bearer';
const AUTH = { type: 'bearer', token: TOKEN } as const;
const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxTotalMs: 5_000 };
const STUDENTS: UpstreamRequest = { method: 'GET', path: '/v1p1/classes/cls-secret-42/students', query: [['filter', "familyName='Hidden'"], ['limit', '5']] };

function recorder() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: { debug: (o: object) => lines.push(JSON.parse(JSON.stringify(o)) as Record<string, unknown>) } };
}

describe('the upstream attempt log', () => {
  it('logs each attempt: district, route template, status, ms, attempt number and why it was repeated', async () => {
    const answers = [503, 429, 200];
    const server = await h.server((_req, res) => {
      res.statusCode = answers.shift() ?? 200;
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    const { lines, logger } = recorder();
    const client = withRetry(h.client(district(`${server.origin}/sis/ims/oneroster`, AUTH), { attemptLogger: logger }), RETRY);
    expect((await client.request(STUDENTS)).status).toBe(200);
    expect(lines.map(({ ms, ...rest }) => (expect(typeof ms).toBe('number'), rest))).toEqual([
      { msg: 'upstream attempt', district: 'test-district', route: 'v1p1 GET /classes/{id}/students', attempt: 1, status: 503 },
      { msg: 'upstream attempt', district: 'test-district', route: 'v1p1 GET /classes/{id}/students', attempt: 2, retryReason: '5xx', status: 429 },
      { msg: 'upstream attempt', district: 'test-district', route: 'v1p1 GET /classes/{id}/students', attempt: 3, retryReason: '429', status: 200 },
    ]);
    // What reached the district had the id and the filter; the log has neither, nor the address or the token.
    expect(server.hits[0]!.url).toContain('cls-secret-42');
    const text = JSON.stringify(lines);
    for (const leak of ['cls-secret-42', 'Hidden', 'filter', TOKEN, 'Bearer', server.origin, '127.0.0.1', '/sis']) expect(text).not.toContain(leak);
  });

  it('logs a network failure by its error code and socket cause, and the retry that followed as a network retry', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const { lines, logger } = recorder();
    const client = withRetry(h.client(district(`http://127.0.0.1:${port}/ims/oneroster`, AUTH), { attemptLogger: logger }), { ...RETRY, maxAttempts: 2 });
    await expect(client.request({ method: 'GET', path: '/v1p1/users', query: [] })).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' });
    expect(lines.map(({ ms, ...rest }) => rest)).toEqual([
      { msg: 'upstream attempt', district: 'test-district', route: 'v1p1 GET /users', attempt: 1, error: 'UPSTREAM_UNREACHABLE', cause: 'ECONNREFUSED' },
      { msg: 'upstream attempt', district: 'test-district', route: 'v1p1 GET /users', attempt: 2, retryReason: 'network', error: 'UPSTREAM_UNREACHABLE', cause: 'ECONNREFUSED' },
    ]);
    expect(JSON.stringify(lines)).not.toContain(String(port));
  });

  it('names routes by template in either version, and paths it does not know as (other), never as they are', () => {
    expect(routeTemplate('GET', '/rostering/v1p2/users/u%201')).toBe('v1p2/rostering GET /users/{id}');
    expect(routeTemplate('PUT', '/gradebook/v1p2/lineItems/li-9')).toBe('v1p2/gradebook PUT /lineItems/{id}');
    expect(routeTemplate('GET', '/v1p1/secret-thing/abc')).toBe('v1p1 GET (other)');
    expect(routeTemplate('GET', '/elsewhere/abc')).toBe('GET (other)');
    expect(routeTemplate('GET', '/v1p1/users/%zz')).toBe('GET (other)');
  });
});
